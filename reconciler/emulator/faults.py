"""The emulators' fault model: the rules `/_emulator/faults` installs (an error answer, latency, a
timeout, a lost response, a held call) and the calls a "hold" keeps in flight until a release.

`VendorEmulator` (base.py) takes a matching rule before serving each API call and acts it out.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

HOLD_SAFETY_SECONDS = 300.0  # a safety net against a test that forgets to release; never waited out on purpose
FAULT_TYPES = ("error", "latency", "timeout", "lost-response", "hold")


class DropConnection(Exception):
    """Close the connection without an answer (a timeout or a lost response, as the client sees it)."""


@dataclass
class FaultRule:
    action: str
    type: str
    code: str | None = None
    status: int | None = None
    message: str | None = None
    count: int | None = None
    ratio: float | None = None
    latency_ms: int = 0
    seconds: float = 30.0

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> "FaultRule":
        kind = data.get("type", "error")
        if kind not in FAULT_TYPES:
            raise ValueError(f"unknown fault type {kind!r}")
        return FaultRule(
            action=str(data.get("action", "*")),
            type=kind,
            code=data.get("code"),
            status=data.get("status"),
            message=data.get("message"),
            count=data.get("count"),
            ratio=data.get("ratio"),
            latency_ms=int(data.get("latencyMs", 0)),
            seconds=float(data.get("seconds", 30.0)),
        )

    def as_json(self) -> dict[str, Any]:
        return {"action": self.action, "type": self.type, "code": self.code, "status": self.status,
                "count": self.count, "ratio": self.ratio, "latencyMs": self.latency_ms, "seconds": self.seconds}


@dataclass
class HeldCall:
    """A call a "hold" fault keeps unanswered until `released` is set; `served` says how it goes on."""

    action: str
    released: threading.Event = field(default_factory=threading.Event)
    served: bool = False
