"""Every row of the ResumeRTCStream document's return code table, answered by the emulator with HTTP 200
and the document's own code (not the gateway's 1000000xx), and the app settings behind 3000 and 3003."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.emulator.cluster import EmulatorCluster
from tests.conftest import control
from tests.vendors.zego.test_emulator import APP_ID, ban, call, code

Trigger = Callable[[EmulatorCluster], dict[str, Any]]


def _app(**settings: Any) -> Trigger:
    def trigger(v: EmulatorCluster) -> dict[str, Any]:
        control(v, "zego", "account", {"appId": int(APP_ID), **settings})
        return ban(v, "rtc01", 1)
    return trigger


def _fault(number: int) -> Trigger:
    def trigger(v: EmulatorCluster) -> dict[str, Any]:
        control(v, "zego", "faults", {"action": "ResumeRTCStream", "code": str(number), "count": 1})
        return ban(v, "rtc01", 1, "ResumeRTCStream")
    return trigger


def _over_the_rate(v: EmulatorCluster) -> dict[str, Any]:
    control(v, "zego", "limits", {"action": "ResumeRTCStream", "perSecond": 1 / 60, "window": 60})
    ban(v, "rtc01", 1, "ResumeRTCStream")
    return ban(v, "rtc01", 2, "ResumeRTCStream")


ROWS: list[tuple[int, Trigger]] = [
    (3000, _app(state="invalid")),
    (3001, _fault(3001)),
    (5006, _fault(5006)),
    (30003, _fault(30003)),
    (3002, lambda v: call(v, "ResumeRTCStream", {"StreamId": "rtc01", "Sequence": "1"},
                          timestamp=int(time.time()) - 700)),
    (3003, _app(tokenConfigured=False)),
    (30002, _over_the_rate),
    (30004, lambda v: call(v, "ResumeRTCStream", {"StreamId": "rtc01", "Sequence": "1"}, override={"IsTest": "yes"})),
    (30005, lambda v: call(v, "ResumeRTCStream", {"StreamId": "rtc01", "Sequence": "1"}, override={"AppId": "42"})),
    (30009, lambda v: ban(v, "rtc/01", 1, "ResumeRTCStream")),
    (40005, lambda v: call(v, "ResumeRTCStream", {"StreamId": "rtc01", "Sequence": "1"}, secret="x" * 32)),
]


@pytest.mark.parametrize(("number", "trigger"), ROWS, ids=[str(r[0]) for r in ROWS])
def test_each_row_of_the_return_code_table(vendors: EmulatorCluster, number: int, trigger: Trigger) -> None:
    answer = trigger(vendors)  # `call` asserts HTTP 200 and the {Code, Message, RequestId, Data} envelope
    assert code(answer) == number and answer["Message"]


def test_the_test_environment_limit_is_five_per_second(vendors: EmulatorCluster) -> None:
    limits = httpx.post(vendors.endpoints["zego"] + "/_emulator/limits", json={}, timeout=5).json()["limits"]
    assert (limits["ResumeRTCStream"], limits["ResumeRTCStream:test"]) == (
        {"calls": 20, "window": 1.0}, {"calls": 5, "window": 1.0})


def test_app_settings_hold_until_changed_and_reset_clears_them(vendors: EmulatorCluster) -> None:
    control(vendors, "zego", "account", {"appId": int(APP_ID), "state": "invalid"})
    assert code(ban(vendors, "rtc01", 1)) == 3000
    assert control(vendors, "zego", "state")["tasks"]["apps"][APP_ID]["state"] == "invalid"
    control(vendors, "zego", "account", {"appId": int(APP_ID), "state": "active"})
    assert code(ban(vendors, "rtc01", 2)) == 0
    control(vendors, "zego", "account", {"appId": int(APP_ID), "tokenConfigured": False})
    control(vendors, "zego", "reset", {})
    assert code(ban(vendors, "rtc01", 3)) == 0


@pytest.mark.parametrize("body", [{"appId": 42}, {"appId": int(APP_ID), "state": "sleeping"}])
def test_bad_app_settings_are_refused(vendors: EmulatorCluster, body: dict[str, Any]) -> None:
    assert httpx.post(vendors.endpoints["zego"] + "/_emulator/account", json=body, timeout=5).status_code == 400
