"""The plan is data: a frozen list of changes that `apply` executes and renderers display.

Apply reads `action`, `after`, `handles`, `update_groups` and `generation`; `reasons`, `fields` and
`before` are for people and never steer apply.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# 2: saved plans carry observations and Provider specs; 3: the manifests (plan/serialize.py);
# 4: unverifiable no-ops are counted apart and each change says why it was not observed
PLAN_FORMAT_VERSION = 4


class Action(str, enum.Enum):
    NOOP = "no-op"
    CREATE = "create"  # start a job
    UPDATE = "update"  # change a running job in place (update-layout, update subscriptions, ...)
    STOP = "stop"
    RESUME = "resume"
    PAUSE = "pause"
    REPLACE = "replace"  # stop, then start anew: a field changed that the vendor cannot update in place
    FORGET = "forget"  # drop from state without a vendor call (deletionPolicy: Retain)

    @property
    def writes(self) -> bool:
        return self is not Action.NOOP


@dataclass(frozen=True)
class FieldChange:
    path: str  # dotted path inside the spec, e.g. "layout.panes[1].user"
    before: Any
    after: Any


@dataclass(frozen=True)
class Change:
    address: str
    kind: str
    name: str
    provider: str
    vendor: str
    action: Action
    before: Mapping[str, Any] | None  # what is live: last applied spec, overlaid with what the vendor reports
    after: Mapping[str, Any] | None  # the desired spec (None when the resource left the manifests)
    handles: Mapping[str, str] = field(default_factory=dict)  # vendor ids of the live job
    generation: int = 0  # increments each time a new vendor job is started for the resource
    update_groups: tuple[str, ...] = ()  # what UPDATE changes: e.g. ("layout",)
    fields: tuple[FieldChange, ...] = ()
    reasons: tuple[str, ...] = ()
    orphan: bool = False  # in state but no longer in the manifests
    drift: bool = False  # the vendor reports something other than what was last applied
    verb: str = ""  # how people call this change for this kind: "start", "update-layout", ...
    lifecycle: str = ""  # the desired lifecycle after the change (active / paused / inactive)
    deletion_policy: str = "Delete"
    # why the live job could not be observed (empty when it was, or when nothing can run): the
    # vendor has no read for it, or could not be reached; such a no-op is counted "unverifiable"
    unverified: str = ""
    wait_for: tuple[str, ...] = ()  # addresses whose changes apply finishes first (a task's custom layout)

    @property
    def display_action(self) -> str:
        return self.verb or self.action.value


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    state_serial: int
    manifest_fingerprint: str
    created_at: str
    prune: bool = False
    format_version: int = PLAN_FORMAT_VERSION
    warnings: tuple[str, ...] = ()

    @property
    def has_changes(self) -> bool:
        return any(c.action.writes for c in self.changes)

    @property
    def verified(self) -> bool:
        """True when every resource's live job was observed (nothing taken on trust)."""
        return not any(c.unverified for c in self.changes)

    def pending(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action.writes)

    def summary(self) -> dict[str, int]:
        """Counts per action. Every change is in exactly one bucket: a no-op whose live job could not
        be observed is "unverifiable", never "unchanged"."""
        counts = {"start": 0, "update": 0, "stop": 0, "resume": 0, "pause": 0, "replace": 0, "forget": 0,
                  "unchanged": 0, "unverifiable": 0, "orphaned": 0}
        for c in self.changes:
            if c.action is Action.NOOP:
                counts["orphaned" if c.orphan else "unverifiable" if c.unverified else "unchanged"] += 1
            elif c.action is Action.CREATE:
                counts["start"] += 1
            else:
                counts[c.action.value] += 1
        return counts
