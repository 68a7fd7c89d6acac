"""What ZEGO's server API accepts: Provider AppId, StartMix mixes and ForbidRTCStream bans.

Sources: the ResumeRTCStream document (stream ids, test-environment prefix) and ZEGO's public
server API pages for StartMix / ForbidRTCStream (stream id charset `[A-Za-z0-9_-]`, at most 256
characters; AppId is a uint32). Assumptions, also in docs/vendors/zego.md:
- every MixInput needs a StreamId, so every pane of a Layout mixed on ZEGO names its stream (`user`);
- at most 9 inputs (ZEGO's default mix limit; more needs ZEGO support to raise it);
- inputs are placed in pixels of the output, so the Layout canvas must be the output size.

The output presets, pixel rectangles and canvas check it shares with Tencent live in
`reconciler/vendors/shared/pixels.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import cast

from reconciler.model.manifest import ManifestSet, Resource
from reconciler.model.mixtask import MixTaskSpec
from reconciler.model.provider import ProviderSpec
from reconciler.model.registry import Violation, register_rule
from reconciler.model.streamrule import StreamRuleSpec
from reconciler.vendors.shared.pixels import canvas_problem, uint32_problem

STREAM_ID = re.compile(r"^[A-Za-z0-9_-]+$")
STREAM_ID_MAX = 256
MAX_MIX_INPUTS = 9
PUSH_URL = re.compile(r"^rtmps?://[^\s/]+/\S+$")


def zego_test_prefix(app_id: str) -> str:
    """ZEGO's test environment wants every stream id prefixed with `zegotest-<AppId>-`."""
    return f"zegotest-{app_id}-"


def vendor_stream_id(stream_id: str, app_id: str, test: bool) -> str:
    """The stream id ZEGO sees; an id already carrying the test prefix is not prefixed twice."""
    prefix = zego_test_prefix(app_id)
    return prefix + stream_id if test and not stream_id.startswith(prefix) else stream_id


def stream_id_problem(stream_id: str, provider: ProviderSpec) -> str | None:
    if not STREAM_ID.match(stream_id):
        return "ZEGO stream ids allow only A-Z a-z 0-9 _ - (no spaces, dots or URL characters)"
    full = vendor_stream_id(stream_id, provider.app_id, provider.test)
    if len(full) > STREAM_ID_MAX:
        extra = f" with the test prefix {zego_test_prefix(provider.app_id)!r}" if full != stream_id else ""
        return f"ZEGO stream ids are at most {STREAM_ID_MAX} characters; this one is {len(full)}{extra}"
    return None


@register_rule("Provider", "zego")
def zego_provider(resource: Resource, manifests: ManifestSet) -> Iterator[Violation]:
    spec = cast(ProviderSpec, resource.spec)
    problem = uint32_problem(spec.app_id, "ZEGO AppId")
    if problem:
        yield Violation(("spec", "appId"), problem + "; copy it from the ZEGO console")
    if spec.admin is not None:
        yield Violation(("spec", "admin"), "admin is the Tencent App admin identifier; ZEGO providers do not use it")


@register_rule("MixTask", "zego")
def zego_mix_task(resource: Resource, manifests: ManifestSet) -> Iterator[Violation]:
    spec = cast(MixTaskSpec, resource.spec)
    provider = manifests.provider(spec.provider)
    if spec.state == "paused":
        yield Violation(("spec", "state"),
                        "ZEGO mixes cannot be paused (StartMix and StopMix only); use `running` or `stopped`")
    if spec.resume_token is not None:
        yield Violation(("spec", "resumeToken"), "ZEGO mixes have no resume call; remove resumeToken")
    output = spec.output
    if (output.stream_id is None) == (output.stream_url is None):
        yield Violation(("spec", "output"),
                        "a ZEGO mix needs exactly one of streamId (a ZEGO stream) or streamUrl (an rtmp:// CDN URL)")
    elif output.stream_id is not None:
        problem = stream_id_problem(output.stream_id, provider)
        if problem:
            yield Violation(("spec", "output", "streamId"), problem)
    elif output.stream_url is not None and not PUSH_URL.match(output.stream_url):
        yield Violation(("spec", "output", "streamUrl"), "expected an rtmp:// or rtmps:// push URL with a path")
    if output.task_profile is not None:
        yield Violation(("spec", "output", "taskProfile"), "taskProfile is an Aliyun billing profile; ZEGO has none")
    if output.encoding == "audio-only":
        yield Violation(("spec", "output", "encoding"),
                        "ZEGO mixes of a Layout produce video; choose a video encoding such as 720p")
    if manifests.get("Layout", spec.layout) is None:
        return
    layout = manifests.layout(spec.layout)
    if len(layout.panes) > MAX_MIX_INPUTS:
        yield Violation(("spec", "layout"), f"layout {spec.layout!r} has {len(layout.panes)} panes; ZEGO mixes at "
                                            f"most {MAX_MIX_INPUTS} input streams")
    for index, pane in enumerate(layout.panes):
        if pane.user is None:
            yield Violation(("spec", "layout"), f"pane {index} of layout {spec.layout!r} has no user; ZEGO mixes "
                                                "named streams only: set `user` to the input stream id")
        else:
            problem = stream_id_problem(pane.user, provider)
            if problem:
                yield Violation(("spec", "layout"), f"pane {index} of layout {spec.layout!r}: {problem}")
    problem = canvas_problem(spec.layout, layout, output.encoding, "ZEGO")
    if problem:
        yield Violation(("spec", "output", "encoding"), problem)


@register_rule("StreamRule")
def stream_rules_are_zego_only(resource: Resource, manifests: ManifestSet) -> Iterator[Violation]:
    vendor = manifests.vendor_of(resource)
    if vendor is not None and vendor != "zego":
        provider = cast(StreamRuleSpec, resource.spec).provider
        yield Violation(("spec", "provider"), f"StreamRule bans are a ZEGO feature (ForbidRTCStream); "
                                              f"Provider/{provider} is for vendor {vendor}; name a zego Provider")


def _rule_target(resource: Resource) -> tuple[str, str]:
    spec = cast(StreamRuleSpec, resource.spec)
    return (spec.provider, spec.stream_id)


@register_rule("StreamRule", "zego")
def zego_stream_rule(resource: Resource, manifests: ManifestSet) -> Iterator[Violation]:
    spec = cast(StreamRuleSpec, resource.spec)
    problem = stream_id_problem(spec.stream_id, manifests.provider(spec.provider))
    if problem:
        yield Violation(("spec", "streamId"), problem)
    for other in manifests.grouped("StreamRule", _rule_target).get(_rule_target(resource), ()):
        if other.name == resource.name:
            break
        yield Violation(("spec", "streamId"),
                            f"stream {spec.stream_id!r} already has a rule: StreamRule/{other.name} "
                            f"({other.source.file}:{other.source.document.line}); keep one rule per stream")
