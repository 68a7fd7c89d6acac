"""ZEGO's `Sequence` rule: strictly increasing per stream (and per mix task), across runs and hosts.

A millisecond timestamp alone is not enough: two calls can fall in the same millisecond, and two
machines' clocks differ. So each value comes from the state store's persistent counter
(`StateStore.next_sequence`, atomic in SQLite) with the current time in ms as its floor: values never
go backwards, and stay close to wall-clock time as ZEGO recommends.

Drawing a value and sending it must also happen in that order on the wire, or a later value can
overtake an earlier one. Per scope, one call is in flight at a time: an asyncio lock inside a
process, and an advisory file lock across processes of one host. Across hosts the apply lock of the
shared state store already keeps runs apart.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: the file lock is skipped
    fcntl = None  # type: ignore[assignment]

SequenceSource = Callable[[str, int], int]

_local_lock = threading.Lock()
_local_last: dict[str, int] = {}


def local_sequences(scope: str, floor: int) -> int:
    """The in-process fallback when no state store is given: increasing within this process only."""
    with _local_lock:
        value = max(floor, _local_last.get(scope, floor - 1) + 1)
        _local_last[scope] = value
        return value


def now_ms() -> int:
    return int(time.time() * 1000)


def lock_dir() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"rtc-reconciler-{uid}" / "sequence-locks"


class SequenceGate:
    """Hands out Sequence values for a scope to one caller at a time, in wire order."""

    def __init__(self, source: SequenceSource | None) -> None:
        self._source = source or local_sequences
        self._locks: dict[str, asyncio.Lock] = {}

    def draw(self, scope: str) -> int:
        return self._source(scope, now_ms())

    @asynccontextmanager
    async def turn(self, scope: str) -> AsyncIterator[None]:
        """Hold the scope while a value is drawn, sent and answered."""
        lock = self._locks.setdefault(scope, asyncio.Lock())
        async with lock, _host_lock(scope):
            yield


@asynccontextmanager
async def _host_lock(scope: str) -> AsyncIterator[None]:
    if fcntl is None:
        yield
        return
    try:
        directory = lock_dir()
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = hashlib.sha256(scope.encode()).hexdigest()[:32] + ".lock"
        fd = os.open(directory / name, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield  # no writable temp directory: in-process ordering still holds
        return
    try:
        while True:  # non-blocking attempts keep the event loop free and cancellation clean
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(0.002)
        yield
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
