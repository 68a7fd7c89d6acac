"""The anyRTC emulator keeps the rules of the cloud recording document, over real sockets."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from reconciler.emulator.cluster import EmulatorCluster
from tests.conftest import control

APP, CUSTOMER, SECRET = "demo-anyrtc-app", "demo-anyrtc-customer", "demo-anyrtc-secret-7f3c"
OTHER_APP = "demo-anyrtc-other"
HTTP = httpx.Client(timeout=5)  # one client: a new one per call costs a TLS context each time
STORAGE = {"vendor": 1, "region": 0, "bucket": "rec", "accessKey": "storage-ak-value",
           "secretKey": "storage-sk-value", "fileNamePrefix": ["a", "b"]}
MIX = {"recordingConfig": {"maxIdleTime": 30, "streamTypes": 2, "channelType": 0,
                           "transcodingConfig": {"width": 640, "height": 360, "fps": 15, "bitrate": 500,
                                                 "mixedVideoLayout": 1, "backgroundColor": "#FF0000"},
                           "subscribeAudioUids": ["#allstream#"], "subscribeVideoUids": ["1", "2"]},
       "recordingFileConfig": {"avFileType": ["hls"]}, "storageConfig": STORAGE}
INDIVIDUAL = {"recordingConfig": {"streamTypes": 2, "subscribeUidGroup": 0, "subscribeAudioUids": ["1", "2"],
                                  "subscribeVideoUids": ["2"]}, "storageConfig": STORAGE}
SNAPSHOT = {"recordingConfig": {"streamTypes": 1, "subscribeUidGroup": 0},
            "snapshotConfig": {"captureInterval": 5, "fileType": ["jpg"]}, "storageConfig": STORAGE}
VOD = {"recordingConfig": {"streamTypes": 2},
       "extensionServiceConfig": {"extensionServices": [{"serviceName": "aliyun_vod_service", "serviceParam": {
           "accessKey": "vod-ak", "secretKey": "vod-sk", "regionId": "cn-shanghai",
           "apiData": {"videoData": {"title": "t"}}}}]}}


@pytest.fixture
def anyrtc(vendors: EmulatorCluster) -> EmulatorCluster:
    """Clean emulators with the per-App-ID limit lifted, so only the rate-limit test meets it."""
    control(vendors, "anyrtc", "limits", {"action": "cloud_recording", "perSecond": 1000})
    return vendors


def auth(customer: str = CUSTOMER, secret: str = SECRET) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{customer}:{secret}".encode()).decode(),
            "Content-Type": "application/json;charset=utf-8"}


def call(vendors: EmulatorCluster, path: str, body: Any = None, *, app: str = APP, method: str = "POST",
         headers: dict[str, str] | None = None) -> httpx.Response:
    url = f"{vendors.endpoints['anyrtc']}/v1/apps/{app}/cloud_recording/{path}"
    return HTTP.request(method, url, json=body, headers=headers if headers is not None else auth())


def acquire(vendors: EmulatorCluster, cname: str = "room1", uid: str = "527841") -> str:
    response = call(vendors, "acquire", {"cname": cname, "uid": uid, "clientRequest": {}})
    assert response.status_code == 200, response.text
    return str(response.json()["resourceId"])


def start(vendors: EmulatorCluster, request: dict[str, Any], mode: str = "mix", rid: str | None = None,
          cname: str = "room1", uid: str = "527841") -> httpx.Response:
    rid = rid or acquire(vendors, cname, uid)
    return call(vendors, f"resourceid/{rid}/mode/{mode}/start", {"cname": cname, "uid": uid, "clientRequest": request})


def started(vendors: EmulatorCluster, request: dict[str, Any] = MIX, mode: str = "mix",
            cname: str = "room1", uid: str = "527841") -> tuple[str, str]:
    response = start(vendors, request, mode, cname=cname, uid=uid)
    assert response.status_code == 200, response.text
    return response.json()["resourceId"], response.json()["sid"]


def session(vendors: EmulatorCluster, rid: str, sid: str, action: str, request: Any = None, mode: str = "mix",
            cname: str = "room1", uid: str = "527841") -> httpx.Response:
    path = f"resourceid/{rid}/sid/{sid}/mode/{mode}/{action}"
    if action == "query":
        return call(vendors, path, method="GET")
    return call(vendors, path, {"cname": cname, "uid": uid, "clientRequest": request if request is not None else {}})


def error(response: httpx.Response) -> tuple[int, Any, str]:
    body = response.json()
    return response.status_code, body.get("code"), body.get("reason", body.get("message"))


def recording(vendors: EmulatorCluster, sid: str) -> dict[str, Any]:
    return next(r for r in control(vendors, "anyrtc", "state")["tasks"]["recordings"] if r["sid"] == sid)


def test_basic_auth_app_ownership_and_routes(anyrtc: EmulatorCluster) -> None:
    body = {"cname": "room1", "uid": "1", "clientRequest": {}}
    assert error(call(anyrtc, "acquire", body, headers={})) == (401, None, "Unauthorized")
    assert error(call(anyrtc, "acquire", body, headers=auth(secret="wrong"))) == (
        401, None, "Invalid authentication credentials")
    assert error(call(anyrtc, "acquire", body, app=OTHER_APP)) == (401, None, "Invalid authentication credentials")
    assert error(call(anyrtc, "acquire", body, app="nobody")) == (400, None, "invalid appid")
    assert error(call(anyrtc, "acquire", body, method="GET")) == (404, None, "no Route matched with those values")
    assert error(call(anyrtc, "acquire", body, headers=auth("demo-anyrtc-customer-2", "demo-anyrtc-secret-2b"),
                      app=OTHER_APP))[0] == 200
    plain = {**auth(), "Content-Type": "text/plain"}
    assert error(call(anyrtc, "acquire", body, headers=plain))[:2] == (400, 8)


@pytest.mark.parametrize(("body", "code", "reason"), [
    ({"cname": "room/1", "uid": "1", "clientRequest": {}}, 1013,
     "invalid channel name: 1-64 bytes of a-z A-Z 0-9 space and !#$%&()+-:;<=.>?@[]^_{}|~,"),
    ({"cname": "room1", "uid": "abc", "clientRequest": {}}, 2, "uid must be a string of 1-48 digits, not 0"),
    ({"cname": "room1", "uid": "1", "clientRequest": {"resourceExpiredHour": 721}}, 2,
     "Acquire: invalid resourceExpiredHour value! (1-720)"),
])
def test_acquire_checks_its_body(anyrtc: EmulatorCluster, body: dict[str, Any], code: int, reason: str) -> None:
    assert error(call(anyrtc, "acquire", body)) == (400, code, reason)


def test_resource_id_lifecycle_7_433_432_1001_53(anyrtc: EmulatorCluster) -> None:
    assert error(start(anyrtc, MIX, rid="not-a-resource"))[:2] == (400, 1001)
    rid = acquire(anyrtc)
    assert error(start(anyrtc, MIX, rid=rid, cname="room2"))[:2] == (400, 432)
    control(anyrtc, "anyrtc", "clock", {"advance": 301})
    assert error(start(anyrtc, MIX, rid=rid)) == (
        400, 433, "resource ID expired: start within 5 minutes of acquire, or acquire again")
    rid = acquire(anyrtc)
    control(anyrtc, "anyrtc", "clock", {"advance": 299})
    first = start(anyrtc, MIX, rid=rid)
    assert first.status_code == 200 and set(first.json()) == {"resourceId", "sid"}
    assert error(start(anyrtc, MIX, rid=rid))[:2] == (400, 7)
    assert error(start(anyrtc, MIX)) == (
        400, 53, "already recording in this channel with this uid; use another uid for a second recording")
    assert start(anyrtc, MIX, uid="527842").status_code == 200  # another uid may record the same channel
    assert len(control(anyrtc, "anyrtc", "state")["tasks"]["recordings"]) == 2


def _with(base: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    import copy

    out = copy.deepcopy(base)
    target = out
    for key in path[:-1]:
        target = target[key]
    if value is None:
        target.pop(path[-1])
    else:
        target[path[-1]] = value
    return out


@pytest.mark.parametrize(("mode", "request_", "reason"), [
    ("mix", {**MIX, "snapshotConfig": {"fileType": ["jpg"]}}, "snapshotConfig needs individual mode"),
    ("individual", {**SNAPSHOT, "recordingFileConfig": {"avFileType": ["hls"]}},
     "recordingFileConfig and snapshotConfig are mutually exclusive"),
    ("mix", {**VOD, "storageConfig": STORAGE},
     "extensionServiceConfig (aliyun_vod_service) and storageConfig are mutually exclusive"),
    ("individual", {**VOD, "recordingConfig": {"subscribeUidGroup": 0}},
     "extensionServiceConfig (aliyun_vod_service) needs mix mode"),
    ("individual", _with(INDIVIDUAL, ("recordingConfig", "transcodingConfig"), MIX["recordingConfig"]["transcodingConfig"]),
     "recordingConfig.transcodingConfig cannot be set in individual mode"),
    ("individual", _with(INDIVIDUAL, ("recordingConfig", "subscribeUidGroup"), None),
     "recordingConfig.subscribeUidGroup is required in individual mode"),
    ("individual", _with(SNAPSHOT, ("recordingConfig", "streamTypes"), 0), "snapshotConfig needs streamTypes 1 or 2"),
    ("individual", _with(SNAPSHOT, ("snapshotConfig", "captureInterval"), 4),
     "snapshotConfig.captureInterval must be between 5 and 3600"),
    ("mix", _with(MIX, ("recordingConfig", "unSubscribeVideoUids"), ["3"]),
     "recordingConfig: subscribeVideoUids and unSubscribeVideoUids are mutually exclusive"),
    ("mix", _with(MIX, ("recordingConfig", "subscribeVideoUids"), []),
     "recordingConfig.subscribeVideoUids must be a non-empty array of at most 32 UIDs"),
    ("mix", _with(MIX, ("recordingConfig", "streamTypes"), 1),
     "recordingConfig: audio subscription lists with streamTypes 1 (video only)"),
    ("mix", _with(MIX, ("recordingConfig", "maxIdleTime"), 4), "recordingConfig.maxIdleTime must be between 5 and 2^32-1"),
    ("mix", _with(MIX, ("recordingConfig", "decryptionMode"), 1), "recordingConfig.secret is required with a decryptionMode"),
    ("mix", _with(MIX, ("recordingConfig", "transcodingConfig", "width"), 1921),
     "recordingConfig.transcodingConfig: width and height at most 1920 and width*height at most 1920*1080"),
    ("mix", _with(MIX, ("recordingConfig", "transcodingConfig", "fps"), None),
     "recordingConfig.transcodingConfig.fps is required when transcodingConfig is set (a positive number)"),
    ("mix", _with(MIX, ("recordingConfig", "transcodingConfig", "mixedVideoLayout"), 3),
     "recordingConfig.transcodingConfig: mixedVideoLayout 3 (custom) needs layoutConfig"),
    ("mix", _with(MIX, ("recordingConfig", "transcodingConfig", "layoutConfig"),
                  [{"x_axis": 0, "y_axis": 0, "width": 0.1, "height": 0.1}] * 18),
     "recordingConfig.transcodingConfig.layoutConfig must be an array of 1-17 panes"),
    ("mix", _with(MIX, ("storageConfig", "region"), 16), "storageConfig.region 16 is not a region of vendor 1"),
    ("mix", _with(MIX, ("storageConfig", "fileNamePrefix"), ["a/b"]),
     "storageConfig.fileNamePrefix must be an array of a-z A-Z 0-9 strings"),
    ("mix", _with(MIX, ("storageConfig", "secretKey"), None), "storageConfig.secretKey is required"),
    ("mix", {"storageConfig": STORAGE}, "clientRequest.recordingConfig is required"),
    ("mix", {**MIX, "recordingConfg": {}}, "clientRequest: unknown parameter 'recordingConfg'"),
    ("mix", _with(MIX, ("recordingFileConfig", "avFileType"), ["mp4"]),
     "recordingFileConfig.avFileType supports [\"hls\"] only"),
])
def test_start_refuses_bad_parameters_and_mutual_exclusions(anyrtc: EmulatorCluster, mode: str,
                                                            request_: dict[str, Any], reason: str) -> None:
    assert error(start(anyrtc, request_, mode)) == (400, 2, reason)
    assert control(anyrtc, "anyrtc", "state")["tasks"]["recordings"] == []


def test_query_status_and_file_lists_by_mode(anyrtc: EmulatorCluster) -> None:
    control(anyrtc, "anyrtc", "channels", {"cname": "room2", "users": ["1", "2", "3"]})
    mix = started(anyrtc)
    individual = started(anyrtc, INDIVIDUAL, "individual", cname="room2")
    shots = started(anyrtc, SNAPSHOT, "individual", cname="room3")
    vod = started(anyrtc, VOD, cname="room4")
    early = session(anyrtc, *mix, "query").json()["serverResponse"]
    assert early["status"] == 4 and early["fileList"] == "" and early["fileListMode"] == "string"
    control(anyrtc, "anyrtc", "clock", {"advance": 10})
    assert session(anyrtc, *mix, "query").json()["serverResponse"]["fileList"] == f"{mix[1]}_room1.m3u8"
    listed = session(anyrtc, *individual, "query", mode="individual").json()["serverResponse"]
    assert listed["status"] == 5 and listed["fileListMode"] == "json"
    assert [(f["uid"], f["trackType"], f["mixedAllUser"]) for f in listed["fileList"]] == [
        ("1", "audio", False), ("2", "audio", False), ("2", "video", False)]
    assert set(session(anyrtc, *shots, "query", mode="individual").json()["serverResponse"]) == {
        "status", "sliceStartTime"}
    vod_state = session(anyrtc, *vod, "query").json()["serverResponse"]
    assert vod_state["subServiceStatus"] == {"recordingService": "serviceInProgress"}
    assert vod_state["extensionServiceState"][0]["payload"]["state"] == "inProgress"
    assert error(session(anyrtc, *mix, "query", mode="individual"))[:2] == (400, 432)
    assert error(session(anyrtc, mix[0], individual[1], "query"))[:2] == (400, 1003)


def test_update_overwrites_the_subscription_and_checks_stream_types(anyrtc: EmulatorCluster) -> None:
    rid, sid = started(anyrtc)
    new = {"streamSubscribe": {"audioUidList": {"unSubscribeAudioUids": ["9"]}}}
    assert session(anyrtc, rid, sid, "update", new).status_code == 200
    assert recording(anyrtc, sid)["subscription"] == {"audio": {"unsubscribe": ["9"]}, "video": None}
    empty = {"streamSubscribe": {"videoUidList": {"subscribeVideoUids": []}}}
    assert error(session(anyrtc, rid, sid, "update", empty)) == (
        400, 2, "streamSubscribe.subscribeVideoUids must be a non-empty array of at most 32 UIDs")
    audio_rid, audio_sid = started(anyrtc, _with(SNAPSHOT, ("recordingConfig", "streamTypes"), 1), "individual",
                                   cname="room2")
    audio = {"streamSubscribe": {"audioUidList": {"subscribeAudioUids": ["1"]}}}
    assert error(session(anyrtc, audio_rid, audio_sid, "update", audio, mode="individual", cname="room2")) == (
        400, 2, "streamSubscribe.audioUidList cannot be set: the recording's streamTypes is 1")


def test_update_layout_overwrites_with_defaults_and_refuses_bad_bodies(anyrtc: EmulatorCluster) -> None:
    rid, sid = started(anyrtc)
    assert recording(anyrtc, sid)["layout"]["backgroundColor"] == "#FF0000"
    assert session(anyrtc, rid, sid, "updateLayout", {"mixedVideoLayout": 2, "maxResolutionUid": "1"}).status_code == 200
    assert recording(anyrtc, sid)["layout"] == {"mixedVideoLayout": 2, "backgroundColor": "#000000",
                                                "layoutConfig": None, "maxResolutionUid": "1"}
    assert error(session(anyrtc, rid, sid, "updateLayout", {"mixedVideoLayout": 3})) == (
        400, 1028, "clientRequest: mixedVideoLayout 3 (custom) needs layoutConfig")
    assert error(session(anyrtc, rid, sid, "updateLayout", {"layout": 1}))[:2] == (400, 1028)
    pane = {"uid": "1", "x_axis": 0, "y_axis": 0, "width": 1.5, "height": 1}
    assert error(session(anyrtc, rid, sid, "updateLayout", {"mixedVideoLayout": 3, "layoutConfig": [pane]})) == (
        400, 1028, "clientRequest.layoutConfig[0].width is required, in [0, 1]")
    irid, isid = started(anyrtc, INDIVIDUAL, "individual", cname="room2")
    assert error(session(anyrtc, irid, isid, "updateLayout", {}, mode="individual", cname="room2")) == (
        400, 2, "updateLayout works in mix mode only")
    assert recording(anyrtc, sid)["layoutUpdates"] == 1


def test_stop_then_49_then_404_and_206_when_nobody_published(anyrtc: EmulatorCluster) -> None:
    rid, sid = started(anyrtc)
    stopped = session(anyrtc, rid, sid, "stop")
    assert stopped.status_code == 200
    assert stopped.json()["serverResponse"]["uploadingStatus"] == "uploaded"
    assert error(session(anyrtc, rid, sid, "stop"))[:2] == (400, 49)
    assert error(session(anyrtc, rid, sid, "query")) == (404, 404, "failed to find worker")
    assert error(session(anyrtc, rid, sid, "update", {"streamSubscribe": {}}))[:2] == (404, 404)
    control(anyrtc, "anyrtc", "channels", {"cname": "empty", "usersPresent": False})
    erid, esid = started(anyrtc, cname="empty")
    nobody = session(anyrtc, erid, esid, "stop", cname="empty")
    assert (nobody.status_code, nobody.json()["code"]) == (206, 435)


def test_recorder_exits_after_max_idle_time_without_users(anyrtc: EmulatorCluster) -> None:
    rid, sid = started(anyrtc)  # maxIdleTime 30
    control(anyrtc, "anyrtc", "clock", {"advance": 100})
    assert session(anyrtc, rid, sid, "query").status_code == 200  # users present: no idle exit
    control(anyrtc, "anyrtc", "channels", {"cname": "room1", "usersPresent": False})
    control(anyrtc, "anyrtc", "clock", {"advance": 29})
    assert session(anyrtc, rid, sid, "query").status_code == 200
    control(anyrtc, "anyrtc", "clock", {"advance": 1})
    assert recording(anyrtc, sid)["phase"] == "exited" and recording(anyrtc, sid)["endedBy"] == "maxIdleTime"
    assert error(session(anyrtc, rid, sid, "query"))[:2] == (404, 404)
    assert error(session(anyrtc, rid, sid, "stop"))[:2] == (404, 404)
    assert start(anyrtc, MIX).status_code == 200  # the uid is free again


def test_drift_exits_and_forced_status(anyrtc: EmulatorCluster) -> None:
    rid, sid = started(anyrtc)
    control(anyrtc, "anyrtc", "drift", {"sid": sid, "status": 6})
    assert session(anyrtc, rid, sid, "query").json()["serverResponse"]["status"] == 6
    control(anyrtc, "anyrtc", "drift", {"sid": sid, "exit": True})
    assert session(anyrtc, rid, sid, "query").json()["serverResponse"]["status"] == 20
    assert error(session(anyrtc, rid, sid, "stop"))[:2] == (404, 404)
    control(anyrtc, "anyrtc", "drift", {"sid": sid, "gone": True})
    assert error(session(anyrtc, rid, sid, "query"))[:2] == (404, 404)
    bad = HTTP.post(f"{anyrtc.endpoints['anyrtc']}/_emulator/drift", json={"sid": sid, "exit": True, "status": 5})
    assert bad.status_code == 400 and bad.json() == {"error": "an exit has status 20 (abnormal) or 8 (exiting)"}


def test_ten_requests_per_second_per_app_id(vendors: EmulatorCluster) -> None:
    answers = [call(vendors, "acquire", {"cname": "room1", "uid": "1", "clientRequest": {}}).status_code
               for _ in range(11)]
    assert answers.count(200) == 10 and answers[-1] == 429
    throttled = call(vendors, "acquire", {"cname": "room1", "uid": "1", "clientRequest": {}})
    assert (throttled.status_code, throttled.json()) == (429, {"message": "API rate limit exceeded"})
    other = call(vendors, "acquire", {"cname": "room1", "uid": "1", "clientRequest": {}}, app=OTHER_APP,
                 headers=auth("demo-anyrtc-customer-2", "demo-anyrtc-secret-2b"))
    assert other.status_code == 200  # the limit is per App ID
    assert control(vendors, "anyrtc", "requests")["throttled"] == 2


def test_state_masks_keys_while_the_request_log_shows_what_was_sent(anyrtc: EmulatorCluster) -> None:
    _, sid = started(anyrtc)
    stored = recording(anyrtc, sid)["clientRequest"]["storageConfig"]
    assert (stored["accessKey"], stored["secretKey"]) == ("***", "***")
    [logged] = [e for e in control(anyrtc, "anyrtc", "requests")["log"] if e["action"] == "start"]
    assert logged["body"]["clientRequest"]["storageConfig"]["secretKey"] == "storage-sk-value"


def test_injected_faults_answer_in_the_vendor_envelope(anyrtc: EmulatorCluster) -> None:
    control(anyrtc, "anyrtc", "faults", {"action": "acquire", "code": "65", "count": 1})
    assert error(call(anyrtc, "acquire", {"cname": "room1", "uid": "1", "clientRequest": {}})) == (
        400, 65, "request failed because of network jitter")
    control(anyrtc, "anyrtc", "faults", {"action": "acquire", "status": 429, "count": 1})
    assert error(call(anyrtc, "acquire", {"cname": "room1", "uid": "1", "clientRequest": {}})) == (
        429, None, "API rate limit exceeded")
