"""Pacing per credential and action at the documented limit, against a simulated vendor window, with a
fake clock: no call may ever land in a vendor window that is full, and the pace stays near the limit."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from reconciler.ratelimit import RateLimit, RateLimiter, WindowPacer, current_call_throttled, finish_current_call


class FakeTime:
    """A clock and a sleep that advance only when every task is waiting: a discrete-event simulation."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._seq), future))
        await future

    async def run(self, main: Awaitable[Any]) -> Any:
        task = asyncio.ensure_future(main)
        while not task.done():
            for _ in range(20):  # let every ready task run until it waits again
                await asyncio.sleep(0)
            if task.done() or not self._sleepers:
                continue
            wake, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, wake)
            future.set_result(None)
        return task.result()


class SlidingWindowVendor:
    """The emulator's rule: at most `calls` arrivals in any `window` seconds, per key."""

    def __init__(self, time: FakeTime, quota: dict[str, RateLimit]) -> None:
        self.time, self.quota = time, quota
        self.arrivals: dict[str, deque[float]] = defaultdict(deque)
        self.accepted: dict[str, list[float]] = defaultdict(list)
        self.throttled = 0

    def arrive(self, action: str) -> bool:
        limit, now, seen = self.quota[action], self.time.now, self.arrivals[action]
        while seen and seen[0] <= now - limit.window:
            seen.popleft()
        if len(seen) >= limit.calls:
            self.throttled += 1
            return False
        seen.append(now)
        self.accepted[action].append(now)
        return True


async def _call(limiter: RateLimiter, vendor: SlidingWindowVendor, time: FakeTime, action: str, limit: RateLimit,
                rng: random.Random) -> None:
    while True:
        await limiter.acquire(f"aliyun:AK:{action}", limit)
        await time.sleep(rng.uniform(0.0005, 0.03))  # on the way there: jitter bunches arrivals
        ok = vendor.arrive(action)
        await time.sleep(rng.uniform(0.0005, 0.03))  # the answer on its way back
        finish_current_call()
        if ok:
            return
        current_call_throttled()
        await time.sleep(0.5)  # the retry policy's backoff


def simulate(plan: dict[str, int], limits: dict[str, RateLimit], quota: dict[str, RateLimit] | None = None,
             concurrency: int = 16, seed: int = 7) -> tuple[SlidingWindowVendor, float]:
    time = FakeTime()
    limiter = RateLimiter(clock=time.clock, sleep=time.sleep)
    vendor = SlidingWindowVendor(time, quota or limits)
    rng = random.Random(seed)
    jobs = [action for action, count in plan.items() for _ in range(count)]
    rng.shuffle(jobs)
    gate = asyncio.Semaphore(concurrency)

    async def one(action: str) -> None:
        async with gate:
            await _call(limiter, vendor, time, action, limits[action], rng)

    async def main() -> None:
        await asyncio.gather(*(one(a) for a in jobs))

    asyncio.run(time.run(main()))
    return vendor, time.now


DOCUMENTED = {"StartMPUTask": RateLimit(20), "StopMPUTask": RateLimit(20), "UpdateMPULayout": RateLimit(20),
              "GetMPUTaskStatus": RateLimit.per_minute(4000)}


def test_paced_calls_reach_the_documented_rate_and_are_never_throttled() -> None:
    vendor, elapsed = simulate({"StartMPUTask": 300}, DOCUMENTED)
    assert vendor.throttled == 0
    assert 300 / elapsed >= 0.95 * 20  # the old bucket (x0.9, burst 1) reached 0.81


def test_each_action_has_its_own_window_so_a_replace_is_not_halved() -> None:
    vendor, elapsed = simulate({"StartMPUTask": 200, "StopMPUTask": 200, "UpdateMPULayout": 200}, DOCUMENTED,
                               concurrency=48)
    assert vendor.throttled == 0
    assert elapsed <= 200 / (0.95 * 20)  # three actions side by side, each at its own limit


def test_a_per_minute_limit_is_counted_over_its_minute() -> None:
    limit = RateLimit.per_minute(120)
    assert (limit.calls, limit.window) == (120, 60.0)
    vendor, elapsed = simulate({"GetMPUTaskStatus": 360}, {"GetMPUTaskStatus": limit})
    assert vendor.throttled == 0 and elapsed <= 3 * 60 / 0.95


def test_an_operator_limit_above_the_real_quota_adapts_down_then_completes() -> None:
    vendor, elapsed = simulate({"StartMPUTask": 300}, {"StartMPUTask": RateLimit(40)},
                               quota={"StartMPUTask": RateLimit(20)})
    assert len(vendor.accepted["StartMPUTask"]) == 300
    assert 0 < vendor.throttled <= 60  # a few throttles to learn, not one per call
    assert 300 / elapsed >= 0.6 * 20


def test_allowance_halves_on_throttling_and_recovers_window_by_window() -> None:
    pacer = WindowPacer(RateLimit(20), now=0.0)
    pacer.throttled(now=0.0)
    pacer.throttled(now=0.0)
    assert pacer.allowance == 5
    pacer.try_start(now=0.5)
    assert pacer.allowance == 5  # no calm window yet
    pacer.try_start(now=3.0)  # three calm windows, each gives back 2 (a tenth of 20)
    assert pacer.allowance == 11
    pacer.try_start(now=30.0)
    assert pacer.allowance == 20  # never above the ceiling


def test_a_call_waits_for_the_oldest_answer_to_leave_the_window() -> None:
    pacer = WindowPacer(RateLimit(2), now=0.0)
    assert pacer.try_start(0.0) == 0.0 and pacer.try_start(0.0) == 0.0
    assert pacer.try_start(0.0) == float("inf")  # both in flight: wait for an answer
    pacer.finish(0.010)
    pacer.finish(0.020)
    assert pacer.try_start(0.5) == pytest.approx(0.510)  # counted from the answer, not from the send
    assert pacer.try_start(1.010) == 0.0


def test_operator_rate_limit_replaces_the_documented_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.model.provider import ProviderSpec
    from reconciler.providers.base import ProviderContext
    from reconciler.vendors.aliyun.provider import AliyunProvider

    def provider(rate: float | None) -> AliyunProvider:
        spec = ProviderSpec.model_validate({"vendor": "aliyun", "appId": "a", "rateLimit": rate,
                                            "credentials": {"accessKeyId": {"env": "A"},
                                                            "accessKeySecret": {"env": "B"}}})
        ctx: Any = ProviderContext.__new__(ProviderContext)
        object.__setattr__(ctx, "spec", spec)
        return AliyunProvider(ctx)

    assert provider(None).rate_limit("StartMPUTask") == RateLimit(500)  # the descriptor's table, by action
    assert provider(None).rate_limit("StopMPUTask") == RateLimit(20)
    assert provider(None).rate_limit("GetMPUTaskStatus") == RateLimit.per_minute(4000)
    assert provider(60).rate_limit("StopMPUTask") == RateLimit(60)  # their quota is higher: follow it


Sleep = Callable[[float], Awaitable[None]]


def test_a_distant_vendor_gets_its_documented_500_per_second_because_calls_in_flight_adapt() -> None:
    """100 ms away, StartMPUTask's 500/s needs about 50 calls in flight (Little's law). The gates learn
    that from round trips (inflight.py); a fixed 16 in flight could carry 160 calls/s at most."""
    from reconciler.inflight import InFlightGate, VegasLimit

    def run(gate_limit: VegasLimit) -> tuple[SlidingWindowVendor, float]:
        time = FakeTime()
        limiter = RateLimiter(clock=time.clock, sleep=time.sleep)
        limit = RateLimit(500)
        vendor = SlidingWindowVendor(time, {"StartMPUTask": limit})
        gate = InFlightGate(gate_limit, clock=time.clock)
        changes = asyncio.Semaphore(64)  # the apply's --concurrency default

        async def one() -> None:
            async with changes:
                await limiter.acquire("aliyun:AK:StartMPUTask", limit)
                async with gate.exchange() as exchange:
                    await time.sleep(0.05)  # on the way there
                    accepted = vendor.arrive("StartMPUTask")
                    await time.sleep(0.05)  # the answer on its way back
                    exchange.answered()
                finish_current_call()
                assert accepted

        async def main() -> None:
            await asyncio.gather(*(one() for _ in range(3000)))

        asyncio.run(time.run(main()))
        return vendor, time.now

    adaptive, elapsed = run(VegasLimit())
    assert adaptive.throttled == 0
    # 0.86 of the limit: the pacer counts each call from its answer (the only rule that never overflows
    # a vendor window), so at 100 ms a 1 s window costs 10 % more; the ramp from 4 in flight costs the rest
    assert 3000 / elapsed >= 0.85 * 500
    fixed, fixed_elapsed = run(VegasLimit(initial=16, minimum=16, maximum=16))
    assert 3000 / fixed_elapsed <= 160
