"""Every row of both Tencent code tables (resume_mcu_task 100001-100429 and the REST conventions'
60002-60021), each answered with HTTP 200 and its exact ErrorCode; the business rows come from the app's
and the room's own settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.emulator.cluster import EmulatorCluster
from tests.conftest import control
from tests.vendors.tencent.test_emulator import CUSTOM, SDKAPPID, official_sig, post

Trigger = Callable[[EmulatorCluster], dict[str, Any]]
ROOM = {"RoomId": "mix1"}


def _account(**settings: Any) -> Trigger:
    def trigger(v: EmulatorCluster) -> dict[str, Any]:
        control(v, "tencent", "account", {"sdkAppId": SDKAPPID, **settings})
        return post(v, "set_mix_stream", CUSTOM)
    return trigger


def _room(**settings: Any) -> Trigger:
    def trigger(v: EmulatorCluster) -> dict[str, Any]:
        control(v, "tencent", "rooms", {"roomId": "mix1", **settings})
        return post(v, "set_mix_stream", CUSTOM)
    return trigger


def _too_fast(v: EmulatorCluster) -> dict[str, Any]:
    control(v, "tencent", "rooms", {"roomId": "mix1", "minIntervalSeconds": 60})
    assert post(v, "set_mix_stream", CUSTOM)["ErrorCode"] == 0
    return post(v, "resume_mcu_task", ROOM)


def _over_the_rate(v: EmulatorCluster) -> dict[str, Any]:
    control(v, "tencent", "limits", {"action": "mix", "perSecond": 1 / 60, "window": 60})
    post(v, "set_mix_stream", CUSTOM)
    return post(v, "set_mix_stream", CUSTOM)


def _fault(code: int) -> Trigger:
    def trigger(v: EmulatorCluster) -> dict[str, Any]:
        control(v, "tencent", "faults", {"action": "set_mix_stream", "code": str(code), "count": 1})
        return post(v, "set_mix_stream", CUSTOM)
    return trigger


def _account_not_a_string(v: EmulatorCluster) -> dict[str, Any]:
    items = [{**CUSTOM["LayoutInfo"]["LayoutList"][0], "Member_Account": 42}]
    return post(v, "set_mix_stream", {**CUSTOM, "LayoutInfo": {"LayoutList": items}})


ROWS: list[tuple[int, Trigger]] = [
    # resume_mcu_task (001)
    (100001, _fault(100001)),
    (100002, lambda v: post(v, "resume_mcu_task", {"RoomId": "x" * 49})),
    (100006, _room(unlimited=False)),
    (100004, _room(exists=False)),
    (100007, _account(mixingPlan=False)),
    (100422, _over_the_rate),
    (100424, lambda v: post(v, "resume_mcu_task", ROOM)),
    (100427, _too_fast),
    (100428, _room(hostInfo=False)),
    (100429, lambda v: post(v, "set_mix_stream", {**ROOM, "LayoutMode": 7})),
    # REST conventions (003)
    (60002, lambda v: post(v, "set_mix_stream", CUSTOM, query={"contenttype": "xml"})),
    (60003, lambda v: post(v, "set_mix_stream", raw=b"{not json")),
    (60004, lambda v: post(v, "set_mix_stream", CUSTOM, query={"usersig": official_sig(key="f" * 64)})),
    (60005, _fault(60005)),
    (60006, lambda v: post(v, "set_mix_stream", CUSTOM, query={"sdkappid": 1400009999})),
    (60007, _fault(60007)),
    (60008, _fault(60008)),
    (60009, lambda v: post(v, "drop_room", CUSTOM)),
    (60010, lambda v: post(v, "set_mix_stream", CUSTOM, query={"identifier": "alice",
                                                                  "usersig": official_sig("alice")})),
    (60011, _fault(60011)),
    (60012, lambda v: post(v, "set_mix_stream", CUSTOM, query={"sdkappid": None})),
    (60013, _fault(60013)),
    (60014, _fault(60014)),
    (60015, _account_not_a_string),
    (60016, _account(disabled=True)),
    (60017, _account(blockedCommands=["set_mix_stream"])),
    (60018, _fault(60018)),
    (60019, _fault(60019)),
    (60020, _account(packageExpired=True)),
    (60021, _account(ipAllowed=False)),
]


@pytest.mark.parametrize(("code", "trigger"), ROWS, ids=[str(r[0]) for r in ROWS])
def test_each_row_of_both_code_tables(vendors: EmulatorCluster, code: int, trigger: Trigger) -> None:
    answer = trigger(vendors)  # `post` asserts HTTP 200 and the envelope
    assert answer["ErrorCode"] == code and answer["ErrorInfo"]


def test_app_settings_hold_until_changed_and_reset_clears_them(vendors: EmulatorCluster) -> None:
    control(vendors, "tencent", "account", {"sdkAppId": SDKAPPID, "blockedCommands": ["resume_mcu_task"]})
    assert post(vendors, "set_mix_stream", CUSTOM)["ErrorCode"] == 0
    assert post(vendors, "resume_mcu_task", ROOM)["ErrorCode"] == 60017
    control(vendors, "tencent", "account", {"sdkAppId": SDKAPPID, "blockedCommands": []})
    assert post(vendors, "resume_mcu_task", ROOM)["ErrorCode"] == 0
    control(vendors, "tencent", "account", {"sdkAppId": SDKAPPID, "disabled": True})
    control(vendors, "tencent", "reset", {})
    assert post(vendors, "set_mix_stream", CUSTOM)["ErrorCode"] == 0


def test_the_room_interval_is_measured_on_the_emulator_clock(vendors: EmulatorCluster) -> None:
    control(vendors, "tencent", "rooms", {"roomId": "mix1", "minIntervalSeconds": 5})
    assert post(vendors, "set_mix_stream", CUSTOM)["ErrorCode"] == 0
    assert post(vendors, "set_mix_stream", CUSTOM)["ErrorCode"] == 100427
    control(vendors, "tencent", "clock", {"advance": 6})
    assert post(vendors, "set_mix_stream", CUSTOM)["ErrorCode"] == 0


def test_settings_for_an_unknown_app_are_refused(vendors: EmulatorCluster) -> None:
    response = httpx.post(vendors.endpoints["tencent"] + "/_emulator/account", json={"sdkAppId": 1}, timeout=5)
    assert response.status_code == 400
