"""The ZEGO emulator over real sockets: signature gateway, bans with their Sequence rule, mixes."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from reconciler.emulator.cluster import EmulatorCluster, load_accounts
from reconciler.vendors.zego.emulator import ZegoEmulator
from reconciler.vendors.zego.signing import public_params
from tests.conftest import control

APP = ZegoEmulator.DEMO_ACCOUNTS[0]
APP_ID, SECRET = str(APP["appId"]), str(APP["serverSecret"])


def call(vendors: EmulatorCluster, action: str, params: dict[str, Any] | None = None, *, body: Any = None,
         test: bool = False, override: dict[str, str] | None = None, secret: str = SECRET,
         timestamp: int | None = None) -> dict[str, Any]:
    query: dict[str, Any] = {"Action": action, **public_params(APP_ID, secret, timestamp=timestamp or int(time.time()),
                                                              is_test=test), **(params or {})}
    query.update(override or {})
    query = {k: v for k, v in query.items() if v is not None}
    url = vendors.endpoints["zego"] + "/"
    if body is None:
        response = httpx.get(url, params=query, timeout=5)
    else:
        content = body if isinstance(body, bytes) else None
        response = httpx.post(url, params=query, timeout=5, content=content,
                              json=None if content is not None else body)
    assert response.status_code == 200  # ZEGO answers every call, errors included, with HTTP 200
    payload: dict[str, Any] = response.json()
    assert set(payload) == {"Code", "Message", "RequestId", "Data"}
    return payload


def code(payload: dict[str, Any]) -> int:
    return int(payload["Code"])


def ban(vendors: EmulatorCluster, stream: str, sequence: int, action: str = "ForbidRTCStream",
        test: bool = False) -> dict[str, Any]:
    return call(vendors, action, {"StreamId": stream, "Sequence": str(sequence)}, test=test)


def mix_body(task: str = "t1", sequence: int = 1, user: str = "u1", rect: dict[str, int] | None = None,
             stream: str = "s1") -> dict[str, Any]:
    return {"TaskId": task, "Sequence": sequence, "UserId": user,
            "MixInput": [{"StreamId": stream, "RectInfo": rect or {"Top": 0, "Left": 0, "Bottom": 720, "Right": 960}}],
            "MixOutput": [{"StreamId": "out1", "VideoBitrate": 1500000, "Fps": 15, "Width": 1280, "Height": 720}]}


@pytest.mark.parametrize(("override", "expected"), [
    ({"AppId": "abc"}, 100000001),
    ({"AppId": "4294967296"}, 100000001),
    ({"Timestamp": None}, 100000002),
    ({"Timestamp": "soon"}, 100000003),
    ({"SignatureNonce": None}, 100000008),
    ({"Signature": None}, 100000009),
    ({"SignatureVersion": None}, 100000013),
    ({"SignatureVersion": "1.0"}, 100000014),
    ({"AppId": "42"}, 30005),
    ({"Signature": "0" * 32}, 40005),
    ({"IsTest": "maybe"}, 30004),
])
def test_gateway_checks_every_public_parameter(vendors: EmulatorCluster, override: dict[str, str],
                                               expected: int) -> None:
    assert code(call(vendors, "ForbidRTCStream", {"StreamId": "s", "Sequence": "1"}, override=override)) == expected


def test_wrong_secret_and_unknown_action_are_refused(vendors: EmulatorCluster) -> None:
    assert code(call(vendors, "ForbidRTCStream", {"StreamId": "s", "Sequence": "1"}, secret="x" * 32)) == 40005
    assert code(call(vendors, "DropTable")) == 100000007
    response = httpx.get(vendors.endpoints["zego"] + "/", timeout=5).json()
    assert response["Code"] == 100000006


def test_timestamp_is_accepted_within_ten_minutes_only(vendors: EmulatorCluster) -> None:
    now = int(time.time())
    assert code(ban(vendors, "s", 1)) == 0
    assert code(call(vendors, "ForbidRTCStream", {"StreamId": "s", "Sequence": "2"}, timestamp=now - 590)) == 0
    expired = call(vendors, "ForbidRTCStream", {"StreamId": "s", "Sequence": "3"}, timestamp=now - 700)
    assert (code(expired), expired["Message"]) == (
        3002, "timestamp error: Timestamp is more than 10 minutes away from the server time")
    control(vendors, "zego", "clock", {"advance": 700})
    assert code(call(vendors, "ForbidRTCStream", {"StreamId": "s", "Sequence": "4"}, timestamp=now + 650)) == 0


def test_ban_of_a_stream_nobody_publishes_is_recorded_and_resume_lifts_it(vendors: EmulatorCluster) -> None:
    first = ban(vendors, "rtc01", 10)
    assert (first["Code"], first["Message"], first["Data"]) == (0, "success", None)
    assert [code(ban(vendors, "rtc01", n)) for n in (11, 12)] == [0, 0]  # banning again is harmless
    stream = control(vendors, "zego", "state")["tasks"]["streams"]["rtc01"]
    assert (stream["banned"], stream["sequence"], stream["appId"]) == (True, 12, APP_ID)
    assert code(ban(vendors, "rtc01", 13, "ResumeRTCStream")) == 0
    assert control(vendors, "zego", "state")["tasks"]["streams"]["rtc01"]["banned"] is False


def test_sequence_must_increase_per_stream_within_ten_seconds(vendors: EmulatorCluster) -> None:
    assert code(ban(vendors, "a", 100)) == 0
    same = ban(vendors, "a", 100, "ResumeRTCStream")
    assert (code(same), same["Message"]) == (
        30006, "invalid Sequence: Sequence 100 is not greater than 100, the last one for stream a within 10 s")
    assert code(ban(vendors, "b", 5)) == 0  # another stream has its own sequence
    assert code(ban(vendors, "a", 101, "ResumeRTCStream")) == 0
    control(vendors, "zego", "clock", {"advance": 11})
    assert code(ban(vendors, "a", 7)) == 0  # the rule holds for 10 s only
    assert code(call(vendors, "ForbidRTCStream", {"StreamId": "a", "Sequence": "x"})) == 30006


def test_stream_ids_and_the_test_environment_prefix(vendors: EmulatorCluster) -> None:
    bad = ban(vendors, "has space", 1)
    assert (code(bad), bad["Message"]) == (
        30009, "invalid StreamId: StreamId 'has space' must be 1-256 characters of A-Z a-z 0-9 _ -")
    unprefixed = ban(vendors, "rtc01", 1, test=True)
    assert unprefixed["Message"] == f"invalid StreamId: in the test environment stream ids start with zegotest-{APP_ID}-"
    assert code(ban(vendors, f"zegotest-{APP_ID}-rtc01", 1, test=True)) == 0
    assert control(vendors, "zego", "state")["tasks"]["streams"][f"zegotest-{APP_ID}-rtc01"]["isTest"] is True


def test_ban_rate_is_twenty_per_second_and_five_in_test(vendors: EmulatorCluster) -> None:
    limits = control(vendors, "zego", "limits", {})["limits"]
    assert limits["ForbidRTCStream"] == {"calls": 20, "window": 1.0}
    assert limits["ForbidRTCStream:test"] == {"calls": 5, "window": 1.0}
    control(vendors, "zego", "limits", {"action": "ForbidRTCStream", "perSecond": 1 / 60, "window": 60})
    assert code(ban(vendors, "r", 1)) == 0
    throttled = ban(vendors, "r", 2)
    assert (code(throttled), throttled["Message"]) == (30002, "request frequency too high")
    assert control(vendors, "zego", "requests")["throttled"] == 1


def test_describe_stream_state_follows_publishing_and_bans(vendors: EmulatorCluster) -> None:
    assert code(call(vendors, "DescribeRTCStreamState", {"StreamId": "cam"})) == 41004
    control(vendors, "zego", "publish", {"streamId": "cam", "publishing": True})
    live = call(vendors, "DescribeRTCStreamState", {"StreamId": "cam"})
    assert (code(live), live["Data"]) == (0, {"StreamId": "cam", "State": "active"})
    assert code(ban(vendors, "cam", 1)) == 0
    assert code(call(vendors, "DescribeRTCStreamState", {"StreamId": "cam"})) == 41006  # the ban kicked it off
    refused = httpx.post(vendors.endpoints["zego"] + "/_emulator/publish", json={"streamId": "cam"}, timeout=5)
    assert (refused.status_code, refused.json()) == (409, {"error": "stream cam is banned"})


def test_start_mix_starts_updates_and_stop_mix_stops_by_task_id(vendors: EmulatorCluster) -> None:
    assert call(vendors, "StartMix", body=mix_body())["Data"] == {"TaskId": "t1", "Sequence": 1}
    moved = {"Top": 0, "Left": 320, "Bottom": 720, "Right": 1280}
    assert code(call(vendors, "StartMix", body=mix_body(sequence=2, rect=moved))) == 0
    task = control(vendors, "zego", "state")["tasks"]["mixes"]["t1"]
    assert (task["updates"], task["sequence"], task["input"][0]["RectInfo"]) == (1, 2, moved)
    info = call(vendors, "GetMixTaskInfo", {"TaskId": "t1"})["Data"]
    assert (info["Sequence"], info["UserId"], info["MixInput"][0]["RectInfo"]) == (2, "u1", moved)
    assert code(call(vendors, "StopMix", body={"TaskId": "t1", "Sequence": 3, "UserId": "u1"})) == 0
    assert code(call(vendors, "GetMixTaskInfo", {"TaskId": "t1"})) == 110209001
    assert code(call(vendors, "StopMix", body={"TaskId": "t1", "Sequence": 4})) == 110209001
    assert code(call(vendors, "StartMix", body=mix_body(sequence=3))) == 110200002  # the sequence outlives the task


@pytest.mark.parametrize(("body", "expected", "message"), [
    (mix_body(rect={"Top": 0, "Left": 0, "Bottom": 721, "Right": 10}), 110200002,
     ("input error: MixInput[0].RectInfo {'Top': 0, 'Left': 0, 'Bottom': 721, 'Right': 10} is not inside the "
     "1280x720 output")),
    ({**mix_body(), "MixInput": []}, 110200002, "input error: MixInput must list at least one input stream"),
    ({**mix_body(), "Sequence": "1"}, 110200002, "input error: Sequence must be an integer"),
    ({**mix_body(), "UserId": ""}, 110200002, "input error: UserId is required"),
    (mix_body(stream="no/slash"), 110200002,
     "input error: StreamId 'no/slash' must be 1-256 characters of A-Z a-z 0-9 _ -"),
    (b"{not json", 110200004, "failed to parse input parameters: the body is not JSON"),
])
def test_start_mix_refuses_bad_requests(vendors: EmulatorCluster, body: Any, expected: int, message: str) -> None:
    payload = call(vendors, "StartMix", body=body)
    assert (code(payload), payload["Message"]) == (expected, message)


def test_mix_owner_and_sequence_are_enforced(vendors: EmulatorCluster) -> None:
    assert code(call(vendors, "StartMix", body=mix_body(sequence=5))) == 0
    other = call(vendors, "StartMix", body=mix_body(sequence=6, user="intruder"))
    assert (code(other), other["Message"]) == (110200003, "authentication failed: task t1 belongs to UserId u1")
    stale = call(vendors, "StartMix", body=mix_body(sequence=5))
    assert stale["Message"] == "input error: Sequence 5 is not greater than 5, the last one for task t1"
    assert code(call(vendors, "StopMix", body={"TaskId": "t1", "Sequence": 4})) == 110200002


def test_mix_in_test_environment_needs_prefixed_streams(vendors: EmulatorCluster) -> None:
    refused = call(vendors, "StartMix", body=mix_body(), test=True)
    assert refused["Message"] == f"input error: in the test environment stream ids start with zegotest-{APP_ID}-"
    body = mix_body(stream=f"zegotest-{APP_ID}-s1")
    body["MixOutput"][0]["StreamId"] = "rtmp://cdn.example.com/live/out"  # a CDN URL needs no prefix
    assert code(call(vendors, "StartMix", body=body, test=True)) == 0


def test_mix_limit_answers_overload(vendors: EmulatorCluster) -> None:
    control(vendors, "zego", "limits", {"action": "GetMixTaskInfo", "perSecond": 1 / 60, "window": 60})
    assert code(call(vendors, "GetMixTaskInfo", {"TaskId": "x"})) == 110209001
    assert code(call(vendors, "GetMixTaskInfo", {"TaskId": "x"})) == 110200194


def test_drift_and_faults(vendors: EmulatorCluster) -> None:
    assert code(call(vendors, "StartMix", body=mix_body())) == 0
    control(vendors, "zego", "drift", {"taskId": "t1", "remove": True})
    assert control(vendors, "zego", "state")["tasks"]["mixes"] == {}
    control(vendors, "zego", "drift", {"streamId": "z", "banned": True})
    assert control(vendors, "zego", "state")["tasks"]["streams"]["z"]["banned"] is True
    control(vendors, "zego", "faults", {"action": "ForbidRTCStream", "code": "3000", "count": 1})
    injected = ban(vendors, "z", 1)
    assert (code(injected), injected["Message"]) == (3000, "invalid app")
    assert code(ban(vendors, "z", 2)) == 0
    bad = httpx.post(vendors.endpoints["zego"] + "/_emulator/drift", json={"nothing": 1}, timeout=5)
    assert bad.status_code == 400


def test_accounts_file_keys(tmp_path: Any) -> None:
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text("zego:\n  - {appId: 42, serverSecret: s3cr3t-of-app-42}\n"
                        "tencent:\n  - {sdkAppId: 1400000042, key: k3y-of-app-42, admin: boss}\n")
    cluster = EmulatorCluster.start(accounts=load_accounts(accounts), vendors=["zego", "tencent"])
    try:
        query = {"Action": "ForbidRTCStream", "StreamId": "s", "Sequence": "1",
                 **public_params(42, "s3cr3t-of-app-42", timestamp=int(time.time()))}
        answer = httpx.get(cluster.endpoints["zego"] + "/", params=query, timeout=5).json()
        assert answer["Code"] == 0
        demo = {**query, **public_params(APP_ID, SECRET, timestamp=int(time.time()))}
        assert httpx.get(cluster.endpoints["zego"] + "/", params=demo, timeout=5).json()["Code"] == 30005
        assert cluster.emulator("tencent").apps == {1400000042: {"key": "k3y-of-app-42", "admin": "boss"}}
    finally:
        cluster.stop()
