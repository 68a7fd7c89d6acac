"""The emulator is never the bottleneck: O(1) nonce checks and a listen backlog that fits bursts."""

from __future__ import annotations

from reconciler.emulator.nonces import NonceWindow
from reconciler.emulator.server import EmulatorServer


class CountingNow(float):
    """A time value that counts how often it is compared against a stored timestamp."""

    subtractions = 0

    def __sub__(self, other: float) -> float:  # type: ignore[override]
        CountingNow.subtractions += 1
        return float(self) - other


def test_replays_are_refused_within_the_window_and_accepted_after() -> None:
    window = NonceWindow(900)
    assert window.use(("key", "n1"), 0.0)
    assert not window.use(("key", "n1"), 899.0)
    assert window.use(("other-key", "n1"), 899.0)
    assert window.use(("key", "n1"), 1800.0)  # expired: a new use


def test_each_check_touches_only_the_expired_nonces_not_the_whole_window() -> None:
    window = NonceWindow(900)
    for i in range(5000):
        window.use(("key", f"n{i}"), float(i) / 100)  # 5,000 live nonces, all within the window
    CountingNow.subtractions = 0
    for i in range(100):
        window.use(("key", f"m{i}"), CountingNow(60.0))
    assert CountingNow.subtractions <= 100 * 2  # the old full scan did 5,000 per check
    assert len(window) == 5100


def test_expired_nonces_are_forgotten() -> None:
    window = NonceWindow(10)
    for i in range(1000):
        window.use(f"n{i}", float(i))
    assert len(window) <= 11


def test_listen_backlog_fits_a_burst_of_connections() -> None:
    # socketserver passes this to listen(); its default of 5 made 16 simultaneous connections wait for SYN retries
    assert EmulatorServer.request_queue_size >= 128
