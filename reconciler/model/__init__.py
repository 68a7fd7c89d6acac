"""Manifest kinds, loading and validation: pure functions over data, no network.

Importing this package registers every kind and rule.
"""

from reconciler.model import layout, mixtask, provider, rules, rules_aliyun  # noqa: F401  (registration)
from reconciler.model.desired import DesiredResource, Lifecycle
from reconciler.model.manifest import ManifestSet, Resource, load_manifests

__all__ = ["DesiredResource", "Lifecycle", "ManifestSet", "Resource", "load_manifests"]
