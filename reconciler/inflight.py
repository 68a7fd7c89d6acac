"""How many HTTP exchanges of one action to keep in flight to one endpoint, learnt from their round trips.

A fixed number is wrong both ways. Against a vendor 100 ms away, 16 exchanges in flight carry at
most 160 calls a second, below the documented 500/s of StartMPUTask; against a server that answers
one request at a time, 16 in flight only queue there, and the client pays for every idle connection
it juggles. So the number adapts, with TCP Vegas's rule (as in Netflix's concurrency-limits): keep
the round trip near the fastest one seen. With `limit` exchanges in flight and round trip `rtt`
against the fastest `rtt_min`, about `limit * (1 - rtt_min / rtt)` of them are queued somewhere;
fewer than `ALPHA` queued means there is room (grow), more than `BETA` means a queue builds (shrink).
Growth starts exponential (one more per answer: doubling each round trip, like TCP slow start)
until the first sign of a queue, then one per round trip. Every `RTT_MEMORY` answers, one exchange
goes alone to measure the fastest round trip again (a vendor may have become slower for good).

The same rule runs for every endpoint, the vendors' and the emulators' alike: it reacts to measured
round trips, never to what the host is. `VegasLimit` is the pure rule (tested on a simulated clock);
`InFlightGate` applies it to asyncio tasks. Rate limits are a separate matter (`ratelimit.py`).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

INITIAL = 4
MINIMUM = 4  # a floor against round trips that vary by themselves; the fixed number was 16
MAXIMUM = 64
ALPHA = 2.0  # queued exchanges below which the limit grows
BETA = 4.0  # queued exchanges above which it shrinks
RTT_MEMORY = 500  # answers after which the fastest round trip is measured again


class VegasLimit:
    """The in-flight limit for one endpoint and action, updated from each answered exchange's round trip."""

    def __init__(self, initial: int = INITIAL, minimum: int = MINIMUM, maximum: int = MAXIMUM) -> None:
        self.minimum, self.maximum = minimum, max(minimum, maximum)
        self.limit = float(min(max(initial, minimum), self.maximum))
        self.slow_start = True
        self.rtt_min = math.inf
        self.probing = False  # measuring the fastest round trip again: one exchange at a time
        self._draining = False
        self._answers = 0

    @property
    def allowed(self) -> int:
        return 1 if self.probing else int(self.limit)

    def sample(self, rtt: float, in_flight: int) -> None:
        """One exchange was answered after `rtt` seconds, with `in_flight` exchanges (itself included)
        in flight when it was answered."""
        if rtt <= 0.0:
            return
        if self.probing:
            if self._draining:
                self._draining = in_flight > 1  # the last of the queue: the next one goes alone
            else:  # sent alone: this round trip met no queue of ours
                self.rtt_min, self.probing, self._answers = rtt, False, 0
            return
        self.rtt_min = min(self.rtt_min, rtt)
        self._answers += 1
        if self._answers >= RTT_MEMORY:
            # Under steady load every round trip includes our own queue, so the fastest one seen
            # may be stale (the vendor became slower for good) and cannot be re-measured without
            # draining: let one exchange alone through, as TCP BBR's ProbeRTT does, then go on.
            self.probing, self._draining = True, in_flight > 1
            return
        if in_flight * 2 < self.limit:
            return  # too few exchanges to say anything about the endpoint: the caller is the bound
        queued = self.limit * (1.0 - self.rtt_min / rtt)
        if queued < ALPHA:
            self.limit += 1.0 if self.slow_start else 1.0 / self.limit
        elif queued > BETA:
            self.slow_start = False
            self.limit -= 1.0 / self.limit
        else:
            self.slow_start = False
        self.limit = min(float(self.maximum), max(float(self.minimum), self.limit))


@dataclass
class Exchange:
    """One slot of a gate; `answered()` marks that the endpoint answered (its round trip counts)."""

    started: float
    answered_at: float | None = None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def answered(self) -> None:
        self.answered_at = self.clock()


class InFlightGate:
    """At most `limit.allowed` exchanges in flight (one endpoint and action); waiters go in arrival order."""

    def __init__(self, limit: VegasLimit | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit or VegasLimit()
        self.clock = clock
        self.in_flight = 0
        self.most_in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def exchange(self) -> AsyncIterator[Exchange]:
        await self._enter()
        slot = Exchange(self.clock(), clock=self.clock)
        try:
            yield slot
        finally:
            if slot.answered_at is not None:
                self.limit.sample(slot.answered_at - slot.started, self.in_flight)
            self.in_flight -= 1
            self._wake()

    async def _enter(self) -> None:
        import asyncio

        if self.in_flight >= self.limit.allowed or self._waiters:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if not waiter.cancelled() and waiter.done():
                    self.in_flight -= 1  # woken (counted in) but cancelled before it could use the slot
                    self._wake()
                elif waiter in self._waiters:
                    self._waiters.remove(waiter)
                raise
        else:
            self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)

    def _wake(self) -> None:
        """Let waiters in while the limit has room; each one woken is counted in flight here."""
        while self._waiters and self.in_flight < self.limit.allowed:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(None)


class InFlightGates:
    """One gate per endpoint origin (scheme, host and port) and action, shared by every provider that
    calls it. Per action, because actions differ in how long the vendor works on them (a start may
    take a second where a status read takes 50 ms): measured against the fastest action, the slow one
    would look queued and be held to the minimum."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._gates: dict[tuple[str, str], InFlightGate] = {}

    def gate(self, endpoint: str, action: str) -> InFlightGate:
        from urllib.parse import urlsplit

        parts = urlsplit(endpoint)
        key = (f"{parts.scheme}://{parts.netloc}".lower(), action)
        gate = self._gates.get(key)
        if gate is None:
            gate = self._gates[key] = InFlightGate(clock=self.clock)
        return gate
