"""Cross-document rules that hold for every vendor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, cast

from reconciler.model.registry import Violation, register_rule

if TYPE_CHECKING:  # only for casts: the MixTask models are built when a MixTask is read
    from reconciler.model.manifest import ManifestSet, Resource
    from reconciler.model.mixtask import MixTaskSpec


def _stream_url(resource: Resource) -> str | None:
    return cast("MixTaskSpec", resource.spec).output.stream_url


@register_rule("MixTask")
def stream_url_used_once(resource: Resource, manifests: ManifestSet) -> Iterator[Violation]:
    """A push URL fed by two mixes garbles both streams, and vendors refuse it; catch it in review."""
    spec = cast("MixTaskSpec", resource.spec)
    url = spec.output.stream_url
    if url is None:
        return
    for other in manifests.grouped("MixTask", _stream_url).get(url, ()):
        if other.name == resource.name:
            break
        yield Violation(
            ("spec", "output", "streamUrl"),
            f"stream URL already used by MixTask/{other.name} "
            f"({other.source.file}:{other.source.document.line}); each task needs its own push URL",
        )
