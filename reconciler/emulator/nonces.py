"""Replay protection for signed requests: each nonce once per time window, checked in O(1).

A dict answers "seen?"; a deque in arrival order lets each check drop only the nonces that expired
since the last one, instead of scanning every nonce of the window on every request.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable


class NonceWindow:
    """Nonces seen in the last `window` seconds. Not thread-safe: callers hold their own lock."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._seen: dict[Hashable, float] = {}
        self._order: deque[tuple[float, Hashable]] = deque()

    def __len__(self) -> int:
        return len(self._seen)

    def clear(self) -> None:
        self._seen.clear()
        self._order.clear()

    def use(self, nonce: Hashable, now: float) -> bool:
        """Record `nonce` at `now`; False when it was already used within the window (a replay)."""
        while self._order and now - self._order[0][0] > self.window:
            stamp, old = self._order.popleft()
            if self._seen.get(old) == stamp:
                del self._seen[old]
        seen = self._seen.get(nonce)
        if seen is not None and now - seen <= self.window:
            return False
        self._seen[nonce] = now
        self._order.append((now, nonce))
        return True
