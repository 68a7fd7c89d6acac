"""The desired state of one managed resource, as plain normalised data the planner diffs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# Vendor-neutral lifecycle every managed kind maps onto:
#   active   - the job should exist and run (MixTask running, Recording recording, StreamRule ban in force)
#   paused   - the job should exist but be paused (only where a vendor can pause)
#   inactive - the job should not run (MixTask/Recording stopped, StreamRule allowed)
Lifecycle = Literal["active", "paused", "inactive"]


@dataclass(frozen=True)
class DesiredResource:
    address: str  # "Kind/name"
    kind: str
    name: str
    provider: str  # name of the Provider resource
    vendor: str
    lifecycle: Lifecycle
    spec: Mapping[str, Any]  # normalised, JSON-able; references inlined; secrets only as references
    deletion_policy: Literal["Delete", "Retain"] = "Delete"
    labels: Mapping[str, str] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()  # addresses whose changes apply must finish first
