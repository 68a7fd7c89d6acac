"""Manifest kinds, loading and validation: pure functions over data, no network.

Importing this package registers every kind and rule.
"""

from reconciler.model import (  # noqa: F401  (importing registers the kinds and rules)
    aliyun_layouts,
    layout,
    mixtask,
    provider,
    recording,
    rules,
    rules_aliyun,
    rules_anyrtc,
    rules_tencent,
    rules_zego,
    streamrule,
)
from reconciler.model.desired import DesiredResource, Lifecycle
from reconciler.model.manifest import ManifestSet, Resource, load_manifests

__all__ = ["DesiredResource", "Lifecycle", "ManifestSet", "Resource", "load_manifests"]
