"""Retry policy as data: which errors, how many times, how long between tries."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from reconciler.errors import UNKNOWN, VendorError, VendorRateLimited

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # total tries, the first included
    base_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 20.0
    jitter: float = 0.2  # +/- share of the delay, so concurrent clients do not retry in step

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before try number `attempt + 1` (attempt counts from 1)."""
        raw = min(self.max_delay, self.base_delay * self.factor ** (attempt - 1))
        spread = raw * self.jitter
        return max(0.0, raw + (rng or random).uniform(-spread, spread))


async def call_with_retry(
    operation: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Sleep = asyncio.sleep,
    on_retry: Callable[[VendorError, int, float], None] | None = None,
    min_delay_for: Callable[[VendorError], float] = lambda _e: 0.0,
) -> T:
    """Run `operation`, retrying only errors the vendor's code table marks transient.

    When an earlier try may have taken effect (its outcome is UNKNOWN), so may the whole call,
    whatever the last try answered: the error raised then says UNKNOWN.
    """
    attempt = 1
    uncertain = False
    while True:
        try:
            return await operation()
        except VendorError as exc:
            if not exc.transient or attempt >= policy.attempts:
                if uncertain:
                    exc.outcome = UNKNOWN
                raise
            uncertain = uncertain or exc.outcome == UNKNOWN
            delay = max(policy.delay(attempt), min_delay_for(exc))
            if isinstance(exc, VendorRateLimited):
                delay = max(delay, policy.base_delay)
            if on_retry is not None:
                on_retry(exc, attempt, delay)
            await sleep(delay)
            attempt += 1
