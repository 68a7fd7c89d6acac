"""Manifest kinds, loading and validation: pure functions over data, no network.

Importing this package registers every kind and rule, the vendors' rules through the vendor registry.
"""

from reconciler.model import (  # noqa: F401  (importing registers the kinds and rules)
    layout,
    mixtask,
    provider,
    recording,
    rules,
    streamrule,
)
from reconciler.model.desired import DesiredResource, Lifecycle
from reconciler.model.manifest import ManifestSet, Resource, load_manifests
from reconciler.vendors import import_rules

import_rules()  # each registered vendor's rules.py registers its rules

__all__ = ["DesiredResource", "Lifecycle", "ManifestSet", "Resource", "load_manifests"]
