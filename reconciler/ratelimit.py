"""Client-side pacing: each vendor credential and action at its own documented limit, never over it.

Vendors count calls in a sliding window as they receive them: at most `calls` in any `window`
seconds (the emulators' `RateWindow` does the same). A vendor receives a call after we send it and
before its answer reaches us, so if a call starts only when fewer than `calls` calls are in flight
or were answered within the last `window` seconds, no window at the vendor can ever hold more than
`calls`, whatever the network does to the timing. That costs one round trip per window (about 0.5 %
at 5 ms and a 1 s window) instead of a fixed 10 % headroom, and needs no burst allowance.

On a throttled answer anyway (another client on the same account, a lower real quota) the allowance
halves; each window without one gives back a tenth of the ceiling (AIMD). An operator's
`Provider.rateLimit` sets the ceiling; the documented limit is the default.

Providers call `acquire` before a request; `BaseProvider.send` calls `finish` when the answer is in;
`throttled` reports a throttled answer. The slot travels between them in a context variable, so the
provider code around a call does not change.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # asyncio is imported when pacing runs: vendor descriptors (and validate) import RateLimit
    import asyncio


@dataclass(frozen=True)
class RateLimit:
    """A documented limit: `per_second` on average, counted over `window` seconds (`burst` is unused)."""

    per_second: float
    burst: int = 1
    window: float = 1.0

    @property
    def calls(self) -> int:
        """How many calls one window holds."""
        return max(1, int(self.per_second * self.window + 1e-9))

    @staticmethod
    def per_minute(calls: float, burst: int = 1) -> RateLimit:
        return RateLimit(calls / 60.0, burst, 60.0)


class WindowPacer:
    """One credential and action: starts a call only while in-flight + recently answered < allowance."""

    RECOVERY_SHARE = 0.1  # of the ceiling, given back per calm window

    def __init__(self, limit: RateLimit, now: float) -> None:
        self.limit = limit
        self.allowance = float(limit.calls)
        self.answered: deque[float] = deque()  # answer times within the last window, oldest first
        self.in_flight = 0
        self.calm_since = now
        self.throttles = 0
        self.waiters: list[asyncio.Future[None]] = []

    def set_limit(self, limit: RateLimit) -> None:
        if limit != self.limit:
            self.limit = limit
            self.allowance = min(self.allowance, float(limit.calls)) if self.throttles else float(limit.calls)

    def try_start(self, now: float) -> float:
        """Start a call (return 0.0) or say how long to wait (math.inf: until a call in flight ends)."""
        self._recover(now)
        window = self.limit.window
        while self.answered and self.answered[0] <= now - window:
            self.answered.popleft()
        allowed = max(1, int(self.allowance))
        busy = self.in_flight + len(self.answered)
        if busy < allowed:
            self.in_flight += 1
            return 0.0
        must_expire = busy - allowed + 1
        if must_expire > len(self.answered):
            return math.inf
        return max(1e-6, self.answered[must_expire - 1] + window - now)  # 0.0 means "started"

    def finish(self, now: float) -> None:
        self.in_flight = max(0, self.in_flight - 1)
        self.answered.append(now)
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.get_loop().call_soon_threadsafe(_wake, waiter)

    def throttled(self, now: float) -> None:
        self.throttles += 1
        self.allowance = max(1.0, self.allowance / 2)
        self.calm_since = now

    def _recover(self, now: float) -> None:
        ceiling = float(self.limit.calls)
        windows = math.floor((now - self.calm_since) / self.limit.window)
        if windows <= 0:
            return
        self.calm_since += windows * self.limit.window
        if self.allowance < ceiling:
            self.allowance = min(ceiling, self.allowance + windows * max(1.0, ceiling * self.RECOVERY_SHARE))


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


@dataclass
class _Slot:
    limiter: RateLimiter
    pacer: WindowPacer
    finished: bool = field(default=False)


_CURRENT: ContextVar[_Slot | None] = ContextVar("reconciler_rate_slot", default=None)


class RateLimiter:
    """Pacers by key (e.g. "aliyun:AccessKeyId:StartMPUTask"), created on first use from the limit."""

    STUCK_AFTER = 120.0  # a slot never finished (a bug, a cancelled task) stops counting after this long

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        self._pacers: dict[str, WindowPacer] = {}
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()

    def pacer(self, key: str, limit: RateLimit) -> WindowPacer:
        with self._lock:
            pacer = self._pacers.get(key)
            if pacer is None:
                pacer = self._pacers[key] = WindowPacer(limit, self._clock())
            else:
                pacer.set_limit(limit)
            return pacer

    async def acquire(self, key: str, limit: RateLimit) -> None:
        """Wait until a call under `key` cannot break `limit` at the vendor, then count it as in flight."""
        import asyncio

        self.finish()  # a slot this task took but never sent (an error in between) ends here
        pacer = self.pacer(key, limit)
        while True:
            with self._lock:
                wait = pacer.try_start(self._clock())
                if wait == math.inf:
                    waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                    pacer.waiters.append(waiter)
            if wait == 0.0:
                break
            if wait == math.inf:
                try:  # the wait ends when a call in flight is answered; the timeout is a safety net
                    await asyncio.wait_for(asyncio.shield(waiter), timeout=self.STUCK_AFTER)
                except asyncio.TimeoutError:  # noqa: UP041 - the same class only from Python 3.11
                    with self._lock:
                        pacer.in_flight = max(0, pacer.in_flight - 1)
            else:
                await (self._sleep or asyncio.sleep)(wait)
        _CURRENT.set(_Slot(self, pacer))

    def finish(self) -> None:
        """The call of this task's slot was answered (or failed): it now counts by its answer time."""
        slot = _CURRENT.get()
        if slot is None or slot.finished or slot.limiter is not self:
            return
        slot.finished = True
        with self._lock:
            slot.pacer.finish(self._clock())

    def throttled(self) -> None:
        """The vendor throttled this task's last call: halve that key's allowance for now."""
        slot = _CURRENT.get()
        if slot is not None and slot.limiter is self:
            with self._lock:
                slot.pacer.throttled(self._clock())


def finish_current_call() -> None:
    """Finish the current task's slot, whichever limiter gave it (called by `BaseProvider.send`)."""
    slot = _CURRENT.get()
    if slot is not None:
        slot.limiter.finish()


def current_call_throttled() -> None:
    slot = _CURRENT.get()
    if slot is not None:
        slot.limiter.throttled()
