"""The Tencent emulator over real sockets: REST conventions, UserSig checks, MCU mix lifecycle."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
import TLSSigAPIv2  # Tencent's own UserSig package: the emulator must accept what it makes

from reconciler.emulator.cluster import EmulatorCluster
from reconciler.vendors.tencent.emulator import TencentEmulator
from tests.conftest import control

APP = TencentEmulator.DEMO_ACCOUNTS[0]
SDKAPPID, KEY, ADMIN = int(APP["sdkAppId"]), str(APP["key"]), str(APP["admin"])


def official_sig(identifier: str = ADMIN, key: str = KEY, expire: int = 3600, sdkappid: int = SDKAPPID) -> str:
    return str(TLSSigAPIv2.TLSSigAPIv2(sdkappid, key).gen_sig(identifier, expire))


def post(vendors: EmulatorCluster, command: str, body: Any = None, *, method: str = "POST",
         query: dict[str, Any] | None = None, raw: bytes | None = None,
         service: str = "live_engine_http_srv") -> dict[str, Any]:
    params: dict[str, Any] = {"sdkappid": SDKAPPID, "identifier": ADMIN, "usersig": official_sig(),
                              "random": random.randint(0, 2**32 - 1), "contenttype": "json"}
    params.update(query or {})
    params = {k: v for k, v in params.items() if v is not None}
    url = f"{vendors.endpoints['tencent']}/v4/{service}/{command}"
    content = raw if raw is not None else (None if body is None else httpx.Request("POST", url, json=body).content)
    response = httpx.request(method, url, params=params, content=content, timeout=5)
    assert response.status_code == 200  # errors travel in the body, never as an HTTP status
    payload: dict[str, Any] = response.json()
    assert set(payload) == {"ActionStatus", "ErrorInfo", "ErrorCode", "RequestId"}
    assert payload["ActionStatus"] == ("OK" if payload["ErrorCode"] == 0 else "FAIL")
    return payload


def err(payload: dict[str, Any]) -> tuple[int, str]:
    return payload["ErrorCode"], payload["ErrorInfo"]


CUSTOM = {"RoomId": "mix1", "LayoutMode": 1000, "VideoEncode": {"Width": 1280, "Height": 720},
          "LayoutInfo": {"LayoutList": [
              {"LocationX": 0, "LocationY": 0, "ImageWidth": 960, "ImageHeight": 720, "RoomId": "mix1",
               "Member_Account": "host", "StreamType": 0, "ZOrder": 0},
              {"LocationX": 960, "LocationY": 0, "ImageWidth": 320, "ImageHeight": 240, "RoomId": "mix1",
               "Member_Account": "guest", "StreamType": 1, "ZOrder": 1}]}}


def test_usersig_made_by_tencents_package_is_accepted(vendors: EmulatorCluster) -> None:
    ok = post(vendors, "set_mix_stream", CUSTOM)
    assert ok["ErrorCode"] == 0 and ok["RequestId"].startswith("Id-")
    mix = control(vendors, "tencent", "state")["tasks"]["mixes"]["mix1"]
    assert (mix["status"], mix["layoutMode"], mix["videoEncode"]) == ("running", 1000, {"Width": 1280, "Height": 720})
    assert [(i["Member_Account"], i["LocationX"], i["ImageWidth"], i["StreamType"]) for i in mix["layoutList"]] == [
        ("host", 0, 960, 0), ("guest", 960, 320, 1)]


@pytest.mark.parametrize(("query", "expected"), [
    ({"usersig": official_sig(key="f" * 64)}, (60004, ("error in account or signature: UserSig rejected (signature): "
                                                      "the UserSig signature does not match the application's key"))),
    ({"usersig": "not-a-sig"}, (60004, ("error in account or signature: UserSig rejected (malformed): the UserSig is "
                                       "not a TLSSigAPIv2 signature (cannot be decoded)"))),
    ({"usersig": official_sig(sdkappid=1400000002)},
     (60004, ("error in account or signature: UserSig rejected (mismatch): the UserSig was made for SDKAppID "
             "1400000002, not 1400000001"))),
    ({"identifier": "alice", "usersig": official_sig("alice")},
     (60010, "the request requires App administrator permissions: 'alice' is not the App admin")),
    ({"identifier": "alice"}, (60004, ("error in account or signature: the UserSig was made for 'administrator', "
                                      "not 'alice'"))),
    ({"usersig": None}, (60004, "error in account or signature: identifier and usersig are required")),
    ({"sdkappid": None}, (60012, "the RESTful API requires an SDKAppID")),
    ({"sdkappid": 1400000009}, (60006, "SDKAppID is invalid: unknown SDKAppID '1400000009'")),
    ({"contenttype": "xml"}, (60002, "HTTP parsing error: contenttype must be json")),
    ({"random": 2**32}, (60002, "HTTP parsing error: random must be a 32-bit unsigned integer")),
])
def test_forged_foreign_or_non_admin_calls_are_refused(vendors: EmulatorCluster, query: dict[str, Any],
                                                       expected: tuple[int, str]) -> None:
    assert err(post(vendors, "set_mix_stream", CUSTOM, query=query)) == expected
    assert control(vendors, "tencent", "state")["tasks"]["mixes"] == {}


def test_expired_usersig_is_refused(vendors: EmulatorCluster) -> None:
    sig = official_sig(expire=60)
    assert post(vendors, "set_mix_stream", CUSTOM, query={"usersig": sig})["ErrorCode"] == 0
    control(vendors, "tencent", "clock", {"advance": 120})
    code, info = err(post(vendors, "set_mix_stream", CUSTOM, query={"usersig": sig}))
    assert code == 60004 and info.startswith("error in account or signature: UserSig rejected (expired): "
                                             "the UserSig expired ")


@pytest.mark.parametrize(("method", "raw", "command", "expected"), [
    ("GET", None, "set_mix_stream", (60002, "HTTP parsing error: the REST API accepts POST only")),
    ("POST", b"", "set_mix_stream", (60003, ("HTTP request JSON parsing error: the POST body cannot be empty; "
                                            "send {} at least"))),
    ("POST", b"{nope", "set_mix_stream", (60003, "HTTP request JSON parsing error: the body is not JSON")),
    ("POST", b"[]", "set_mix_stream", (60003, "HTTP request JSON parsing error: the body must be a JSON object")),
    ("POST", b"{}", "pause_mcu_task", (60009, ("request resource error: no API at "
                                             "/v4/live_engine_http_srv/pause_mcu_task"))),
])
def test_rest_conventions(vendors: EmulatorCluster, method: str, raw: bytes | None, command: str,
                          expected: tuple[int, str]) -> None:
    assert err(post(vendors, command, method=method, raw=raw)) == expected


@pytest.mark.parametrize(("body", "expected"), [
    ({}, (100002, "invalid parameter: RoomId must be a string of 1-48 bytes")),
    ({"RoomId": "r" * 49}, (100002, "invalid parameter: RoomId must be a string of 1-48 bytes")),
    ({"RoomId": "mix1", "LayoutMode": 2}, (100429, ("invalid mixing mode: LayoutMode 2; expected 0 (grid) or 1000 "
                                                   "(custom)"))),
    ({"RoomId": "mix1", "LayoutMode": 1000}, (100002, ("invalid parameter: custom mode (1000) needs "
                                                      "LayoutInfo.LayoutList"))),
    ({**CUSTOM, "VideoEncode": {"Width": 640, "Height": 360}},
     (100002, "invalid parameter: LayoutList[0] extends past the 640x360 canvas")),
    ({**CUSTOM, "VideoEncode": {"Width": 0}}, (100002, ("invalid parameter: VideoEncode needs a positive integer "
                                                       "Width and Height"))),
])
def test_set_mix_stream_validates_its_body(vendors: EmulatorCluster, body: dict[str, Any],
                                           expected: tuple[int, str]) -> None:
    assert err(post(vendors, "set_mix_stream", body)) == expected


def test_grid_mode_update_and_resume_lifecycle(vendors: EmulatorCluster) -> None:
    assert err(post(vendors, "resume_mcu_task", {"RoomId": "mix1"})) == (
        100424, "mix stream task does not exist: room mix1 has no mix task")
    assert post(vendors, "set_mix_stream", {"RoomId": "mix1", "LayoutMode": 0})["ErrorCode"] == 0
    assert post(vendors, "set_mix_stream", CUSTOM)["ErrorCode"] == 0
    control(vendors, "tencent", "drift", {"roomId": "mix1", "status": "paused"})
    assert control(vendors, "tencent", "state")["tasks"]["mixes"]["mix1"]["status"] == "paused"
    assert post(vendors, "resume_mcu_task", {"RoomId": "mix1"})["ErrorCode"] == 0
    mix = control(vendors, "tencent", "state")["tasks"]["mixes"]["mix1"]
    assert (mix["status"], mix["updates"], mix["resumes"], mix["layoutMode"]) == ("running", 1, 1, 1000)


def test_rooms_that_do_not_exist_or_are_not_live_rooms(vendors: EmulatorCluster) -> None:
    control(vendors, "tencent", "rooms", {"roomId": "gone", "exists": False})
    control(vendors, "tencent", "rooms", {"roomId": "plain", "unlimited": False})
    assert err(post(vendors, "set_mix_stream", {"RoomId": "gone"})) == (
        100004, "room does not exist or is dissolved: gone")
    assert err(post(vendors, "resume_mcu_task", {"RoomId": "plain"}))[0] == 100006


def test_twenty_mix_operations_per_second_per_sdkappid(vendors: EmulatorCluster) -> None:
    assert control(vendors, "tencent", "limits", {})["limits"]["mix"] == {"calls": 20, "window": 1.0}
    control(vendors, "tencent", "limits", {"action": "mix", "perSecond": 2 / 60, "window": 60})
    codes = [post(vendors, "set_mix_stream", {"RoomId": f"r{i}"})["ErrorCode"] for i in range(3)]
    assert codes == [0, 0, 100422]
    assert control(vendors, "tencent", "requests")["actions"]["set_mix_stream"] == {"ok": 2, "throttled": 1}


def test_injected_fault_uses_the_envelope(vendors: EmulatorCluster) -> None:
    control(vendors, "tencent", "faults", {"action": "resume_mcu_task", "code": "100427", "count": 1})
    assert err(post(vendors, "resume_mcu_task", {"RoomId": "mix1"})) == (
        100427, "the mixing operation in this room is too fast")


def test_drift_needs_a_known_room(vendors: EmulatorCluster) -> None:
    response = httpx.post(f"{vendors.endpoints['tencent']}/_emulator/drift", json={"roomId": "nope"}, timeout=5)
    assert (response.status_code, response.json()) == (400, {"error": "\"no mix task in room 'nope'\""})
