"""The emulators' request accounting: per action, the times of its first and last answer (`spans`),
which the benchmark uses to measure the rate a paced apply reached at the vendor."""

from __future__ import annotations

import httpx
import pytest

from reconciler.emulator.cluster import EmulatorCluster
from tests.conftest import control


def test_spans_follow_the_emulator_clock_per_action_and_a_reset_clears_them(vendors: EmulatorCluster) -> None:
    url = vendors.endpoints["aliyun"]
    control(vendors, "aliyun", "clock", {"freeze": True})
    assert httpx.get(url, params={"Action": "StartMPUTask"}, timeout=10).status_code == 400  # unsigned
    control(vendors, "aliyun", "clock", {"advance": 2.5})
    httpx.get(url, params={"Action": "StartMPUTask"}, timeout=10)
    control(vendors, "aliyun", "clock", {"advance": 1.0})
    httpx.get(url, params={"Action": "StopMPUTask"}, timeout=10)
    spans = control(vendors, "aliyun", "requests")["spans"]
    first, last = spans["StartMPUTask"]
    assert last - first == pytest.approx(2.5)
    stop_first, stop_last = spans["StopMPUTask"]
    assert stop_first == stop_last == pytest.approx(last + 1.0)
    control(vendors, "aliyun", "reset", {})
    assert control(vendors, "aliyun", "requests")["spans"] == {}
