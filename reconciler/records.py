"""Plain data exchanged between state, providers and the planner (no I/O here).

- `ResourceRecord`: what the state store remembers of a resource it manages.
- `Intent`: a vendor write that was started; present until its outcome is recorded, so a crash
  between the two is visible to the next run.
- `Observation`: what a provider learnt from the vendor about a job right now.
- `Discovery`: for a resource the state does not know, the newest job of it a vendor holds, found
  by asking for the ids derived from the manifests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

ObservedStatus = Literal["active", "paused", "inactive", "absent", "unknown"]


@dataclass(frozen=True)
class Intent:
    operation: str  # create | update | stop | resume | pause
    handles: Mapping[str, str]
    spec: Mapping[str, Any] | None
    lifecycle: str
    generation: int
    started_at: str


@dataclass(frozen=True)
class ResourceRecord:
    address: str
    kind: str
    name: str
    provider: str
    vendor: str
    handles: Mapping[str, str] = field(default_factory=dict)
    generation: int = 0
    last_applied: Mapping[str, Any] | None = None
    lifecycle: str = "inactive"
    deletion_policy: str = "Delete"
    intent: Intent | None = None
    serial: int = 0
    updated_at: str = ""

    def with_changes(self, **changes: Any) -> "ResourceRecord":
        return replace(self, **changes)


@dataclass(frozen=True)
class Observation:
    status: ObservedStatus
    detail: str = ""  # what the vendor said, for people: "status 4: channel stopped"
    fields: Mapping[str, Any] = field(default_factory=dict)  # spec keys the vendor reports
    handles: Mapping[str, str] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.status in ("active", "paused")


@dataclass(frozen=True)
class Discovery:
    generation: int  # the newest generation the vendor knows for the resource
    observation: Observation  # what the vendor reports of it (handles included)
    # spec keys the vendor cannot report but can change in place: adoption sets them again
    unreadable: tuple[str, ...] = ()
