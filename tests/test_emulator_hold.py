"""The "hold" fault: a call stays in flight until the test releases it, so tests race against events,
never against a latency that has to last long enough."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from reconciler.emulator.cluster import EmulatorCluster
from tests.conftest import control


class Call:
    """One StartMPUTask request to the Aliyun emulator, sent from a thread; `result` is its status code
    or the name of the transport error when the emulator dropped it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.result: int | str | None = None
        self.thread = threading.Thread(target=self._send, daemon=True)
        self.thread.start()

    def _send(self) -> None:
        try:
            self.result = httpx.get(self.url, params={"Action": "StartMPUTask"}, timeout=120).status_code
        except httpx.TransportError as exc:
            self.result = type(exc).__name__

    def answered(self) -> int | str | None:
        self.thread.join(timeout=60)  # a bound for a broken emulator only
        assert not self.thread.is_alive(), "the call was never answered"
        return self.result


def wait_held(cluster: EmulatorCluster, count: int) -> None:
    deadline = time.monotonic() + 60
    while control(cluster, "aliyun", "requests")["held"].get("StartMPUTask", 0) != count:
        assert time.monotonic() < deadline, f"never {count} StartMPUTask call(s) held"
        time.sleep(0.02)


def test_held_calls_stay_in_flight_until_released_and_a_reset_drops_them(vendors: EmulatorCluster) -> None:
    url = vendors.endpoints["aliyun"]
    control(vendors, "aliyun", "faults", {"action": "StartMPUTask", "type": "hold", "count": 2})
    first = Call(url)
    wait_held(vendors, 1)
    second = Call(url)  # held after `first`: a release lets the oldest go first
    wait_held(vendors, 2)
    unheld = Call(url)  # the rule held its count of calls: the next one is served at once
    assert unheld.answered() == 400  # unsigned: the vendor's own error, answered while two are held
    requests = control(vendors, "aliyun", "requests")
    assert requests["inFlight"] == {"StartMPUTask": 2} and requests["held"] == {"StartMPUTask": 2}
    assert sum(requests["actions"]["StartMPUTask"].values()) == 1  # only the unheld one was served
    assert first.thread.is_alive() and second.thread.is_alive()

    assert control(vendors, "aliyun", "release", {"action": "StartMPUTask", "count": 1}) == {"released": 1}
    assert first.answered() == 400  # released: served normally, by the vendor's own checks
    requests = control(vendors, "aliyun", "requests")
    assert requests["inFlight"] == {"StartMPUTask": 1} and requests["held"] == {"StartMPUTask": 1}
    assert sum(requests["actions"]["StartMPUTask"].values()) == 2 and second.thread.is_alive()

    control(vendors, "aliyun", "reset", {})
    assert second.answered() == "RemoteProtocolError"  # dropped unserved: nothing leaks past a reset
    requests = control(vendors, "aliyun", "requests")
    assert requests["inFlight"] == {} and requests["held"] == {} and requests["actions"] == {}
    assert control(vendors, "aliyun", "release", {}) == {"released": 0}


def test_a_release_names_its_action_and_count(vendors: EmulatorCluster) -> None:
    url = vendors.endpoints["aliyun"]
    control(vendors, "aliyun", "faults", {"action": "StartMPUTask", "type": "hold"})
    calls = [Call(url) for _ in range(3)]
    wait_held(vendors, 3)
    assert control(vendors, "aliyun", "release", {"action": "StopMPUTask"}) == {"released": 0}
    assert control(vendors, "aliyun", "release", {"count": 2}) == {"released": 2}
    wait_held(vendors, 1)
    assert control(vendors, "aliyun", "release", {"action": "*"}) == {"released": 1}
    assert [c.answered() for c in calls] == [400, 400, 400]
    with pytest.raises(httpx.HTTPStatusError):
        control(vendors, "aliyun", "release", {"count": -1})
