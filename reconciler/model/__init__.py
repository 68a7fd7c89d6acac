"""Manifest kinds, loading and validation: pure functions over data, no network.

Importing this package registers the core's rules. Each kind's models are built when a document of
that kind is first read, and each vendor's rules are imported, through the vendor registry, when a
resource they apply to is first checked (`reconciler.model.registry`): start-up pays for what the
manifests use.
"""

from typing import TYPE_CHECKING, Any

from reconciler.model import rules  # noqa: F401  (importing registers the core's rules)
from reconciler.model.manifest import ManifestSet, Resource, load_manifests

if TYPE_CHECKING:
    from reconciler.model.desired import DesiredResource, Lifecycle

__all__ = ["DesiredResource", "Lifecycle", "ManifestSet", "Resource", "load_manifests"]


def __getattr__(name: str) -> Any:
    """`DesiredResource` and `Lifecycle` on first use: plan needs them, `validate` does not."""
    if name in ("DesiredResource", "Lifecycle"):
        from reconciler.model import desired

        return getattr(desired, name)
    raise AttributeError(f"module 'reconciler.model' has no attribute {name!r}")
