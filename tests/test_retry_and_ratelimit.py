"""Retry policy and client-side token buckets, with the clock and sleep under test control."""

from __future__ import annotations

import asyncio

import pytest

from reconciler.errors import VendorError, VendorRateLimited, VendorUnavailable
from reconciler.retry import RetryPolicy, call_with_retry


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_transient_errors_are_retried_with_growing_delays() -> None:
    sleeps: list[float] = []
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise VendorUnavailable("aliyun", "Service.BuildSignature", "boom")
        return "ok"

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    policy = RetryPolicy(attempts=5, base_delay=1.0, factor=2.0, jitter=0.0)
    assert run(call_with_retry(flaky, policy, sleep=sleep)) == "ok"
    assert calls == 3 and sleeps == [1.0, 2.0]


def test_permanent_errors_are_not_retried() -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise VendorError("aliyun", "Request.InvalidAppID", "bad app", transient=False)

    async def sleep(seconds: float) -> None:
        raise AssertionError("must not sleep")

    with pytest.raises(VendorError):
        run(call_with_retry(broken, RetryPolicy(), sleep=sleep))
    assert calls == 1


def test_attempts_are_bounded_and_minimum_delay_honoured() -> None:
    sleeps: list[float] = []

    async def throttled() -> None:
        raise VendorRateLimited("anyrtc", "65", "jitter")

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    with pytest.raises(VendorRateLimited):
        run(call_with_retry(throttled, RetryPolicy(attempts=3, base_delay=0.1, jitter=0.0), sleep=sleep,
                            min_delay_for=lambda _e: 3.0))
    assert sleeps == [3.0, 3.0]


def test_delay_is_capped_and_jittered_within_bounds() -> None:
    policy = RetryPolicy(base_delay=1.0, factor=10.0, max_delay=5.0, jitter=0.2)
    for attempt in range(1, 6):
        assert 0.8 * min(5.0, 10.0 ** (attempt - 1)) <= policy.delay(attempt) <= 1.2 * min(5.0, 10.0 ** (attempt - 1))


