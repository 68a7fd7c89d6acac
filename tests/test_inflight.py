"""Exchanges in flight per endpoint adapt to round trips (reconciler/inflight.py).

The rule is checked on a simulated clock against two kinds of endpoint: a vendor far away that
answers many calls at once (the limit must grow to its maximum, or a paced apply cannot reach a
documented 500 calls/s) and a server that answers one request at a time (the limit must stay small,
since more in flight only queue there). The gate is checked with events, and its wiring with the
emulator's `hold` fault: what the emulator holds is what the tool had in flight.
"""

from __future__ import annotations

import asyncio
import heapq
import threading
import time
from pathlib import Path

import pytest

from bench.manifests import write_manifests
from reconciler.apply.connections import ConnectionOptions
from reconciler.emulator.cluster import EmulatorCluster
from reconciler.endpoints import load_endpoints_file
from reconciler.inflight import ALPHA, BETA, INITIAL, MAXIMUM, MINIMUM, RTT_MEMORY, InFlightGate, InFlightGates, VegasLimit
from reconciler.plan.planner import PlanOptions
from reconciler.state import open_state
from reconciler.workflow import plan_manifests
from tests.conftest import control


class Endpoint:
    """A simulated endpoint: `workers` requests served at once, each taking `service` seconds, behind a
    network `latency` each way; requests beyond the workers wait in its queue."""

    def __init__(self, latency: float, service: float, workers: int) -> None:
        self.latency, self.service, self.workers = latency, service, workers


def simulate(endpoint: Endpoint, requests: int, limit: VegasLimit,
             slow_down_after: int | None = None, slower: Endpoint | None = None) -> dict[str, float]:
    """Send `requests` requests through `limit` (as many in flight as it allows), on a simulated clock.
    Returns the mean round trip, the throughput and the limit at the end."""
    now, sent, answered, in_flight, total_rtt = 0.0, 0, 0, 0, 0.0
    events: list[tuple[float, int, str, float]] = []  # (time, seq, what, sent_at)
    free_at = [0.0] * endpoint.workers  # when each worker is next idle
    seq = 0
    while answered < requests:
        current = slower if slower is not None and slow_down_after is not None and sent >= slow_down_after \
            else endpoint
        while sent < requests and in_flight < limit.allowed:
            arrive = now + current.latency
            worker = min(range(len(free_at)), key=free_at.__getitem__)
            done = max(arrive, free_at[worker]) + current.service
            free_at[worker] = done
            seq += 1
            heapq.heappush(events, (done + current.latency, seq, "answer", now))
            sent += 1
            in_flight += 1
        now, _, _, sent_at = heapq.heappop(events)
        limit.sample(now - sent_at, in_flight)
        in_flight -= 1
        answered += 1
        total_rtt += now - sent_at
    return {"rtt": total_rtt / requests, "throughput": requests / now, "limit": limit.limit}


def test_a_distant_vendor_that_answers_many_calls_at_once_gets_the_maximum_in_flight() -> None:
    # 100 ms each way, plenty of workers: in-flight exchanges do not queue, so the limit grows
    far = Endpoint(latency=0.05, service=0.002, workers=1000)
    result = simulate(far, 2_000, limit := VegasLimit())
    assert limit.allowed == MAXIMUM
    # Little's law: 64 in flight over a ~102 ms round trip carry over 600 calls/s (a fixed 16 carried 160)
    assert result["throughput"] > 500


def test_a_server_answering_one_at_a_time_keeps_the_limit_small_without_losing_throughput() -> None:
    local = Endpoint(latency=0.0001, service=0.001, workers=1)
    adaptive = simulate(local, 5_000, limit := VegasLimit())
    fixed = simulate(local, 5_000, VegasLimit(initial=MAXIMUM, minimum=MAXIMUM))
    # the server serves 1,000/s whatever the client does; the adaptive client gets that too ...
    assert adaptive["throughput"] > 0.95 * fixed["throughput"]
    # ... with a small queue: the limit stays near ALPHA..BETA queued plus the one being served
    assert limit.allowed <= BETA + 2
    assert adaptive["rtt"] < fixed["rtt"] / 5


def test_few_exchanges_say_nothing_about_the_endpoint_and_leave_the_limit_alone() -> None:
    limit = VegasLimit()
    for _ in range(1_000):
        limit.sample(0.01, in_flight=1)  # one at a time: the caller, not the endpoint, is the bound
    assert limit.limit == INITIAL


def test_a_vendor_that_becomes_slower_for_good_is_measured_against_its_new_speed() -> None:
    fast = Endpoint(latency=0.01, service=0.001, workers=1000)
    slow = Endpoint(latency=0.1, service=0.001, workers=1000)
    limit = VegasLimit()
    simulate(fast, 300, limit, slow_down_after=150, slower=slow)
    # right after the change every round trip looks 10 times the fastest: the limit shrinks ...
    assert limit.slow_start is False and limit.allowed < MAXIMUM
    simulate(slow, 2 * RTT_MEMORY, limit)
    # ... until the fastest round trip is measured again (one exchange alone): it grows back
    assert limit.rtt_min > 0.2 and limit.allowed == MAXIMUM


def test_a_queue_that_builds_shrinks_the_limit_and_it_never_goes_below_the_minimum() -> None:
    limit = VegasLimit(initial=20)
    limit.sample(0.010, in_flight=20)  # the fastest round trip, nothing queued: grows
    assert limit.limit == 21
    for _ in range(RTT_MEMORY - 2):  # (within one measuring period of the fastest round trip)
        limit.sample(0.100, in_flight=21)  # ten times slower: 90 % of what is in flight queues
    assert limit.allowed == MINIMUM and ALPHA < 1.0 * 20 * (1 - 0.01 / 0.1)


def test_the_gate_never_lets_more_than_the_limit_through_and_serves_waiters_in_order() -> None:
    async def scenario() -> tuple[int, list[int], int]:
        gate = InFlightGate(VegasLimit(initial=3, minimum=1, maximum=3))
        release = asyncio.Event()
        entered: list[int] = []

        async def call(i: int) -> None:
            async with gate.exchange() as slot:
                entered.append(i)
                await release.wait()
                slot.answered()

        tasks = [asyncio.create_task(call(i)) for i in range(10)]
        for _ in range(5):
            await asyncio.sleep(0)  # let every task reach the gate
        before_release = len(entered)
        release.set()
        await asyncio.gather(*tasks)
        return before_release, entered, gate.most_in_flight

    before_release, entered, most = asyncio.run(scenario())
    assert before_release == 3 and most == 3
    assert entered == list(range(10))  # first come, first served


def test_a_cancelled_waiter_gives_its_place_back() -> None:
    async def scenario() -> tuple[int, int]:
        gate = InFlightGate(VegasLimit(initial=1, minimum=1, maximum=1))
        hold = asyncio.Event()

        async def call() -> None:
            async with gate.exchange():
                await hold.wait()

        first = asyncio.create_task(call())
        waiting = [asyncio.create_task(call()) for _ in range(3)]
        for _ in range(3):
            await asyncio.sleep(0)
        for task in waiting[:2]:
            task.cancel()
        hold.set()
        await asyncio.gather(first, waiting[2])
        await asyncio.gather(*waiting[:2], return_exceptions=True)
        return gate.in_flight, gate.most_in_flight

    assert asyncio.run(scenario()) == (0, 1)


def test_providers_calling_one_endpoint_share_a_gate_per_action() -> None:
    gates = InFlightGates()
    start = gates.gate("https://rtc.aliyuncs.com", "StartMPUTask")
    assert start is gates.gate("HTTPS://rtc.aliyuncs.com/", "StartMPUTask")
    # a start may take the vendor a second where a status read takes 50 ms: measured against the
    # status reads' round trips, starts would look queued and be held to the minimum
    assert start is not gates.gate("https://rtc.aliyuncs.com", "GetMPUTaskStatus")
    assert gates.gate("http://127.0.0.1:9000", "A") is not gates.gate("http://127.0.0.1:9001", "A")


def test_round_trips_that_vary_by_themselves_never_hold_the_limit_below_its_floor() -> None:
    limit = VegasLimit()
    for i in range(10_000):
        limit.sample(0.05 if i % 2 else 1.0, in_flight=limit.allowed)  # half the answers 20 times slower
    assert limit.allowed >= MINIMUM == INITIAL


def test_a_plan_starts_with_a_few_exchanges_in_flight_and_lets_more_through_as_they_are_answered(
        vendors: EmulatorCluster, tmp_path: Path) -> None:
    """Against the emulator: with every status call held, exactly INITIAL of them reach it; once
    released, the plan finishes and observed every task."""
    root = tmp_path / "m"
    write_manifests(root, 40, 2)
    control(vendors, "aliyun", "faults", {"action": "GetMPUTaskStatus", "type": "hold"})
    store = open_state(tmp_path / "state.db")
    options = ConnectionOptions(endpoint_overrides=load_endpoints_file(None))
    done = threading.Event()
    outcome: list[object] = []

    def run() -> None:
        outcome.append(asyncio.run(plan_manifests([root], store, options, PlanOptions())))
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a bound for a broken run only
    while control(vendors, "aliyun", "requests")["held"].get("GetMPUTaskStatus", 0) < INITIAL:
        assert time.monotonic() < deadline, "the plan never reached the emulator"
        threading.Event().wait(0.02)
    # the plan has 40 tasks to look for and 64 changes may be in progress, but only the gate's
    # initial limit of exchanges is in flight while none has been answered
    assert control(vendors, "aliyun", "requests")["inFlight"] == {"GetMPUTaskStatus": INITIAL}
    while not done.is_set():
        control(vendors, "aliyun", "release", {})
        done.wait(0.02)
    thread.join(timeout=60)
    store.close()
    requests = control(vendors, "aliyun", "requests")
    assert sum(requests["actions"]["GetMPUTaskStatus"].values()) == 40
    assert len(outcome[0].plan.pending()) == 40  # type: ignore[attr-defined]


@pytest.mark.parametrize("rtt", [0.0, -1.0])
def test_a_round_trip_that_is_not_positive_is_ignored(rtt: float) -> None:
    limit = VegasLimit()
    limit.sample(rtt, in_flight=10)
    assert limit.limit == INITIAL and limit.rtt_min == float("inf")
