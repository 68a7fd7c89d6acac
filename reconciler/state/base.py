"""The state store protocol: what the reconciler remembers between runs.

Every vendor write is bracketed: `record_intent` before the call, `record_outcome` (or
`clear_intent`) after it. A crash in between leaves the intent, which the next run resolves by
observing the vendor, so nothing is started twice and nothing started is forgotten.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from reconciler.records import Intent, ResourceRecord


@dataclass(frozen=True)
class LockInfo:
    pid: int
    host: str
    since: str
    purpose: str = "apply"

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host} ({self.purpose}, since {self.since})"

    @staticmethod
    def current(purpose: str = "apply") -> "LockInfo":
        return LockInfo(os.getpid(), socket.gethostname(), utc_now(), purpose)


def holder_alive_here(holder: LockInfo) -> bool:
    """Whether the lock holder is a process that still runs on this machine."""
    if holder.host != socket.gethostname():
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    return True


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class StateStore(Protocol):
    url: str

    def serial(self) -> int: ...

    def records(self) -> dict[str, ResourceRecord]: ...

    def get(self, address: str) -> ResourceRecord | None: ...

    def record_intent(self, record: ResourceRecord, intent: Intent) -> None:
        """Create the record if new and store `intent` on it, before the vendor call."""

    def save_handles(self, address: str, handles: Mapping[str, str]) -> None:
        """Store vendor ids learnt in the middle of an operation (e.g. an acquired resource id)."""

    def record_outcome(
        self,
        address: str,
        *,
        handles: Mapping[str, str],
        generation: int,
        last_applied: Mapping[str, Any] | None,
        lifecycle: str,
        deletion_policy: str = "Delete",
    ) -> None:
        """The call succeeded: remember the result and clear the intent."""

    def clear_intent(self, address: str) -> None: ...

    def forget(self, address: str) -> None: ...

    def next_sequence(self, scope: str, floor: int) -> int:
        """A value strictly greater than every one handed out before for `scope`, and >= floor."""

    def acquire_lock(self, info: LockInfo) -> None: ...

    def release_lock(self, info: LockInfo) -> None: ...

    def lock_holder(self) -> LockInfo | None: ...

    def force_unlock(self) -> LockInfo | None: ...

    def close(self) -> None: ...


@contextmanager
def locked(store: StateStore, purpose: str = "apply") -> Iterator[LockInfo]:
    info = LockInfo.current(purpose)
    store.acquire_lock(info)
    try:
        yield info
    finally:
        store.release_lock(info)
