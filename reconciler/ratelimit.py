"""Client-side rate limiting: one token bucket per vendor credential and call class.

Seeded from the vendor's documented limit so apply never provokes throttling; this is the seam a
scheduler tunes (the bucket's rate and burst are plain data, the clock is injectable).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    per_second: float
    burst: int = 1

    @staticmethod
    def per_minute(calls: float, burst: int = 1) -> "RateLimit":
        return RateLimit(calls / 60.0, burst)


class TokenBucket:
    """A thread- and task-safe token bucket; `acquire` waits until a token is free."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._tokens = float(limit.burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def _take(self) -> float:
        """Take a token if one is free (return 0), else return how long to wait."""
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.limit.burst), self._tokens + (now - self._stamp) * self.limit.per_second)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.limit.per_second

    async def acquire(self) -> None:
        while (wait := self._take()) > 0:  # noqa: ASYNC110 - the wait is computed; there is no event to await
            await asyncio.sleep(wait)


DEFAULT_HEADROOM = 0.9


class RateLimiter:
    """Buckets by key (e.g. "aliyun:AccessKeyId:write"); created on first use from `limits`.

    Buckets run at `headroom` times the documented rate: vendors count calls in sliding windows
    as they receive them, and network jitter bunches calls that left evenly spaced, so pacing at
    exactly the limit still gets an occasional call throttled.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, headroom: float = DEFAULT_HEADROOM) -> None:
        self._buckets: dict[str, TokenBucket] = {}
        self._clock = clock
        self._headroom = headroom
        self._lock = threading.Lock()

    def bucket(self, key: str, limit: RateLimit) -> TokenBucket:
        with self._lock:
            if key not in self._buckets:
                paced = RateLimit(limit.per_second * self._headroom, limit.burst)
                self._buckets[key] = TokenBucket(paced, self._clock)
            return self._buckets[key]

    async def acquire(self, key: str, limit: RateLimit) -> None:
        await self.bucket(key, limit).acquire()
