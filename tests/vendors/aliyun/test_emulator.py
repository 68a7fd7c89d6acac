"""The Aliyun emulator keeps the rules of the RTC 2018-01-11 document, over real sockets."""

from __future__ import annotations

import time
import uuid
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest
from aliyunsdkrtc.request.v20180111.GetMPUTaskStatusRequest import GetMPUTaskStatusRequest
from aliyunsdkrtc.request.v20180111.StartMPUTaskRequest import StartMPUTaskRequest
from aliyunsdkrtc.request.v20180111.StopMPUTaskRequest import StopMPUTaskRequest
from aliyunsdkrtc.request.v20180111.UpdateMPUTaskRequest import UpdateMPUTaskRequest
from conftest import control

from reconciler.emulator.cluster import EmulatorCluster
from reconciler.vendors.aliyun.signing import TIMESTAMP_FORMAT, signature

AK, SECRET, APP = "LTAI5tDemoAccessKey00001", "demoSecretForTheAliyunEmulator", "demo-aliyun-app"
OTHER_AK, OTHER_SECRET, OTHER_APP = "LTAI5tDemoAccessKey00002", "otherSecretForAliyunEmulator02", "demo-aliyun-other"
URL_A = "rtmp://push.example.com/live/a"


def signed(action: str, params: dict[str, str], *, method: str = "GET", key_id: str = AK, secret: str = SECRET,
           fmt: str | None = "JSON", timestamp: float | None = None, nonce: str | None = None) -> dict[str, str]:
    common = {"Action": action, "Version": "2018-01-11", "AccessKeyId": key_id, "SignatureMethod": "HMAC-SHA1",
              "SignatureVersion": "1.0", "SignatureNonce": nonce or uuid.uuid4().hex,
              "Timestamp": time.strftime(TIMESTAMP_FORMAT, time.gmtime(timestamp or time.time()))}
    if fmt is not None:
        common["Format"] = fmt
    out = {**common, **params}
    out["Signature"] = signature(method, out, secret)
    return out


def send(vendors: EmulatorCluster, params: dict[str, str], *, method: str = "GET", form: bool = False) -> httpx.Response:
    url = vendors.endpoints["aliyun"] + "/"
    if method == "GET":
        return httpx.get(url, params=params, timeout=5)
    return httpx.post(url, data=params, timeout=5) if form else httpx.post(url, params=params, timeout=5)


def call(vendors: EmulatorCluster, action: str, params: dict[str, str], **kwargs: Any) -> httpx.Response:
    return send(vendors, signed(action, params, **kwargs))


def start_params(task_id: str = "t1", url: str = URL_A, **extra: str) -> dict[str, str]:
    return {"AppId": APP, "ChannelId": "room1", "TaskId": task_id, "MediaEncode": "20", "LayoutIds.1": "1",
            "LayoutIds.2": "2", "StreamURL": url, "UserPanes.1.PaneId": "0", "UserPanes.1.UserId": "host",
            "UserPanes.1.SourceType": "camera", **extra}


def status_of(vendors: EmulatorCluster, task_id: str = "t1") -> int:
    response = call(vendors, "GetMPUTaskStatus", {"AppId": APP, "TaskId": task_id})
    assert response.status_code == 200, response.text
    return int(response.json()["Status"])


def error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    assert set(body) == {"RequestId", "HostId", "Code", "Message"}
    return response.status_code, body["Code"], body["Message"]


def test_start_status_update_stop_round_trip(vendors: EmulatorCluster) -> None:
    started = call(vendors, "StartMPUTask", start_params(TaskProfile="4IN_720P", CropMode="1"))
    assert started.status_code == 200 and set(started.json()) == {"RequestId"}
    assert status_of(vendors) == 1
    updated = call(vendors, "UpdateMPULayout", {"AppId": APP, "TaskId": "t1", "LayoutIds.1": "6",
                                                "UserPanes.1.PaneId": "3", "UserPanes.1.UserId": "guest",
                                                "UserPanes.1.SourceType": "shareScreen"})
    assert updated.status_code == 200
    task = control(vendors, "aliyun", "state")["tasks"]["t1"]
    assert task["channel"] == "room1" and task["streamUrl"] == URL_A and task["taskProfile"] == "4IN_720P"
    assert task["layoutIds"] == [6]
    assert task["userPanes"] == [{"PaneId": 3, "UserId": "guest", "SourceType": "shareScreen"}]
    assert task["cropMode"] == 2  # an update that omits CropMode takes the documented default
    assert task["params"]["ChannelId"] == "room1" and "Signature" not in task["params"]
    assert call(vendors, "StopMPUTask", {"AppId": APP, "TaskId": "t1"}).status_code == 200
    assert status_of(vendors) == 3


def test_xml_is_the_default_format_for_answers_and_errors(vendors: EmulatorCluster) -> None:
    assert call(vendors, "StartMPUTask", start_params()).status_code == 200
    answer = call(vendors, "GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1"}, fmt=None)
    assert answer.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(answer.content)
    assert root.tag == "GetMPUTaskStatusResponse" and root.findtext("Status") == "1" and root.findtext("RequestId")
    failed = call(vendors, "GetMPUTaskStatus", {"AppId": APP, "TaskId": "nope"}, fmt="XML")
    assert failed.status_code == 404
    root = ET.fromstring(failed.content)
    assert root.tag == "Error"
    assert [child.tag for child in root] == ["RequestId", "HostId", "Code", "Message"]
    assert (root.findtext("HostId"), root.findtext("Code")) == ("rtc.aliyuncs.com", "InvalidTask.NotFound")


def test_post_with_a_form_body_and_query_signed_together(vendors: EmulatorCluster) -> None:
    params = signed("StartMPUTask", start_params(), method="POST")
    query = {k: v for k, v in params.items() if not k.startswith(("UserPanes", "LayoutIds"))}
    form = {k: v for k, v in params.items() if k not in query}
    response = httpx.post(vendors.endpoints["aliyun"] + "/", params=query, data=form, timeout=5)
    assert response.status_code == 200, response.text
    assert control(vendors, "aliyun", "state")["tasks"]["t1"]["userPanes"][0]["UserId"] == "host"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"secret": "wrong-secret"}, (401, "Request.IllegalSignature", "The signature does not match the one we calculated.")),
        ({"key_id": "LTAI5tNobodyHasThisKey", "secret": "x"}, (401, "Request.IllegalAuth", "The AccessKeyId does not exist.")),
        ({"timestamp": lambda: time.time() - 16 * 60}, (401, "Request.IllegalTimestamp",
                                                 "The Timestamp is more than 15 minutes from the server time.")),
        ({"timestamp": lambda: time.time() + 16 * 60}, (401, "Request.IllegalTimestamp",
                                                 "The Timestamp is more than 15 minutes from the server time.")),
    ],
)
def test_authentication_failures(vendors: EmulatorCluster, change: dict[str, Any], expected: tuple[int, str, str]) -> None:
    change = {k: v() if callable(v) else v for k, v in change.items()}  # times taken now, not at collection
    assert error(call(vendors, "GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1"}, **change)) == expected


def test_signature_is_checked_against_the_method_actually_used(vendors: EmulatorCluster) -> None:
    params = signed("GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1"}, method="GET")
    assert error(send(vendors, params, method="POST"))[1] == "Request.IllegalSignature"
    assert error(send(vendors, params, method="GET"))[1] == "InvalidTask.NotFound"


def test_missing_and_malformed_common_parameters(vendors: EmulatorCluster) -> None:
    params = signed("GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1"})
    for name, code in (("Timestamp", "Request.NoTimestamp"), ("Signature", "Request.NoSignature"),
                       ("SignatureNonce", "Request.NoNonce")):
        assert error(send(vendors, {k: v for k, v in params.items() if k != name}))[:2] == (400, code)
    malformed = {**params, "Timestamp": "2024-13-01 10:00"}
    malformed["Signature"] = signature("GET", malformed, SECRET)
    assert error(send(vendors, malformed))[:2] == (400, "Request.InvalidTimestamp")
    assert error(call(vendors, "GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1", "Version": "2017-01-01"}))[:2] == (
        400, "NoSuchVersion")
    assert error(call(vendors, "GetMPUTaskStatus", {"AppId": APP, "SignatureMethod": "HMAC-SHA256"}))[:2] == (
        400, "IncompleteSignature")


def test_a_replayed_nonce_is_rejected_within_the_window(vendors: EmulatorCluster) -> None:
    params = signed("StartMPUTask", start_params())
    assert send(vendors, params).status_code == 200
    assert error(send(vendors, params)) == (400, "Request.InvalidNonce", "The SignatureNonce was already used.")
    assert len(control(vendors, "aliyun", "state")["tasks"]) == 1


def test_expiry_follows_the_emulator_clock(vendors: EmulatorCluster) -> None:
    control(vendors, "aliyun", "clock", {"advance": 16 * 60})
    assert error(call(vendors, "GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1"}))[1] == "Request.IllegalTimestamp"


def test_app_must_belong_to_the_access_key(vendors: EmulatorCluster) -> None:
    assert error(call(vendors, "GetMPUTaskStatus", {"TaskId": "t1"})) == (400, "Request.NoAppID", "The request has no AppId.")
    assert error(call(vendors, "GetMPUTaskStatus", {"AppId": "no-such-app", "TaskId": "t1"})) == (
        404, "Service.NoApp", "The App does not exist.")
    assert error(call(vendors, "GetMPUTaskStatus", {"AppId": OTHER_APP, "TaskId": "t1"}))[:2] == (
        400, "Request.InvalidAppID")


def test_unknown_action(vendors: EmulatorCluster) -> None:
    assert error(call(vendors, "CreateChannel", {"AppId": APP})) == (
        400, "UnsupportedOperation", "The specified action is not supported.")


def test_task_ids_are_unique_even_after_a_stop(vendors: EmulatorCluster) -> None:
    assert call(vendors, "StartMPUTask", start_params()).status_code == 200
    assert error(call(vendors, "StartMPUTask", start_params(url="rtmp://push.example.com/live/b"))) == (
        400, "Task.AlreadyExists", "Task already exists")
    call(vendors, "StopMPUTask", {"AppId": APP, "TaskId": "t1"})
    control(vendors, "aliyun", "clock", {"advance": 30})
    assert error(call(vendors, "StartMPUTask", start_params()))[1] == "Task.AlreadyExists"


def test_stream_url_one_task_at_a_time_and_not_within_10s_of_a_stop(vendors: EmulatorCluster) -> None:
    assert call(vendors, "StartMPUTask", start_params("t1")).status_code == 200
    assert error(call(vendors, "StartMPUTask", start_params("t2"))) == (
        400, "StreamURL.InUse", "The StreamURL is used by another running task.")
    assert call(vendors, "StopMPUTask", {"AppId": APP, "TaskId": "t1"}).status_code == 200
    control(vendors, "aliyun", "clock", {"advance": 9})
    assert error(call(vendors, "StartMPUTask", start_params("t2")))[:2] == (400, "StreamURL.RecentlyStopped")
    control(vendors, "aliyun", "clock", {"advance": 1.5})
    assert call(vendors, "StartMPUTask", start_params("t2")).status_code == 200


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"LayoutIds.16": "1"}, (400, "InvalidParameter", 'The specified value of parameter "LayoutIds.16 (N must be 1..15)" is not valid.')),
        ({"UserPanes.0.PaneId": "1"}, (400, "InvalidParameter", 'The specified value of parameter "UserPanes.0 (N must be 1..15)" is not valid.')),
        ({"UserPanes.1.PaneId": "15"}, (400, "InvalidParameter", 'The specified value of parameter "UserPanes.1.PaneId" is not valid.')),
        ({"UserPanes.1.SourceType": "screen"}, (400, "InvalidParameter", 'The specified value of parameter "UserPanes.1.SourceType" is not valid.')),
        ({"MediaEncode": "2"}, (400, "InvalidParameter", 'The specified value of parameter "MediaEncode" is not valid.')),
        ({"CropMode": "3"}, (400, "InvalidParameter", 'The specified value of parameter "CropMode" is not valid.')),
        ({"BackgroundColor": "16777216"}, (400, "InvalidParameter", 'The specified value of parameter "BackgroundColor" is not valid.')),
        ({"TaskProfile": "9IN_4K"}, (400, "InvalidParameter", 'The specified value of parameter "TaskProfile" is not valid.')),
        ({"TaskId": "has.dot"}, (400, "InvalidTask.IDError", "The TaskId is not valid: use 1-64 characters of A-Z a-z 0-9 _ -.")),
        ({"TaskId": "x" * 65}, (400, "InvalidTask.IDError", "The TaskId is not valid: use 1-64 characters of A-Z a-z 0-9 _ -.")),
        ({"ChannelId": "room 1"}, (400, "Request.InvalidChannelID", "The ChannelId is not valid: use 1-64 characters of A-Z a-z 0-9 _ -.")),
        ({"ChannelId": ""}, (400, "Request.NoChannelID", "The request has no ChannelId.")),
        ({"StreamURL": ""}, (400, "MissingParameter", 'The input parameter "StreamURL" that is mandatory for processing this request is not supplied.')),
        ({"MediaEncode": ""}, (400, "MissingParameter", 'The input parameter "MediaEncode" that is mandatory for processing this request is not supplied.')),
    ],
)
def test_start_parameter_rules(vendors: EmulatorCluster, extra: dict[str, str], expected: tuple[int, str, str]) -> None:
    assert error(call(vendors, "StartMPUTask", start_params(**extra))) == expected
    assert control(vendors, "aliyun", "state")["tasks"] == {}


def test_fifteen_panes_are_accepted_and_layout_ids_are_required(vendors: EmulatorCluster) -> None:
    panes = {f"UserPanes.{n}.{f}": v for n in range(1, 16) for f, v in (("PaneId", str(n - 1)), ("UserId", f"u{n}"))}
    params = {**start_params(), **panes, "LayoutIds.1": "1"}
    assert call(vendors, "StartMPUTask", params).status_code == 200
    assert len(control(vendors, "aliyun", "state")["tasks"]["t1"]["userPanes"]) == 15
    without = {k: v for k, v in start_params("t2", "rtmp://push.example.com/live/b").items() if not k.startswith("LayoutIds")}
    assert error(call(vendors, "StartMPUTask", without))[:2] == (400, "MissingParameter")


def test_unknown_tasks_and_stopped_tasks(vendors: EmulatorCluster) -> None:
    for action in ("GetMPUTaskStatus", "StopMPUTask", "UpdateMPULayout"):
        assert error(call(vendors, action, {"AppId": APP, "TaskId": "ghost", "LayoutIds.1": "1"})) == (
            404, "InvalidTask.NotFound", "The task does not exist.")
    assert error(call(vendors, "GetMPUTaskStatus", {"AppId": APP, "TaskId": "bad id"}))[1] == "InvalidTask.IDError"
    call(vendors, "StartMPUTask", start_params())
    control(vendors, "aliyun", "drift", {"taskId": "t1", "status": 4})
    assert call(vendors, "StopMPUTask", {"AppId": APP, "TaskId": "t1"}).status_code == 200
    assert status_of(vendors) == 4  # stopping a stopped task changes nothing
    assert error(call(vendors, "UpdateMPULayout", {"AppId": APP, "TaskId": "t1", "LayoutIds.1": "1"}))[:2] == (
        400, "InvalidTask.Stopped")


def test_update_mpu_task_takes_the_layout_fields_and_media_encode(vendors: EmulatorCluster) -> None:
    call(vendors, "StartMPUTask", start_params())
    response = call(vendors, "UpdateMPUTask", {"AppId": APP, "TaskId": "t1", "LayoutIds.1": "2", "MediaEncode": "30",
                                               "CropMode": "0", "BackgroundColor": "255"})
    assert response.status_code == 200
    task = control(vendors, "aliyun", "state")["tasks"]["t1"]
    assert (task["layoutIds"], task["mediaEncode"], task["cropMode"], task["backgroundColor"]) == ([2], 30, 0, 255)
    assert task["history"] == ["StartMPUTask", "UpdateMPUTask"]


def test_new_tasks_can_start_waiting_for_the_channel(vendors: EmulatorCluster) -> None:
    control(vendors, "aliyun", "new-task-status", {"status": 0})
    call(vendors, "StartMPUTask", start_params())
    assert status_of(vendors) == 0


def test_drift_stops_changes_layout_and_deletes(vendors: EmulatorCluster) -> None:
    call(vendors, "StartMPUTask", start_params())
    layout = {"LayoutIds": [1], "UserPanes": [{"PaneId": 0, "UserId": "intruder", "SourceType": "camera"}]}
    task = control(vendors, "aliyun", "drift", {"taskId": "t1", "layout": layout})["task"]
    assert task["userPanes"][0]["UserId"] == "intruder" and task["layoutIds"] == [1]
    control(vendors, "aliyun", "drift", {"taskId": "t1", "status": 6})
    assert status_of(vendors) == 6
    control(vendors, "aliyun", "drift", {"taskId": "t1", "delete": True})
    assert error(call(vendors, "GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1"}))[1] == "InvalidTask.NotFound"


def test_throttling_per_access_key(vendors: EmulatorCluster) -> None:
    control(vendors, "aliyun", "limits", {"action": "GetMPUTaskStatus", "perSecond": 2 / 60, "window": 60})
    for _ in range(2):
        assert error(call(vendors, "GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1"}))[1] == "InvalidTask.NotFound"
    assert error(call(vendors, "GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1"})) == (
        400, "Throttling.User", "Request was denied due to user flow control.")
    other = call(vendors, "GetMPUTaskStatus", {"AppId": OTHER_APP, "TaskId": "t1"}, key_id=OTHER_AK, secret=OTHER_SECRET)
    assert error(other)[1] == "InvalidTask.NotFound"  # another AccessKey has its own budget
    counts = control(vendors, "aliyun", "requests")
    assert counts["throttled"] == 1 and counts["actions"]["GetMPUTaskStatus"]["throttled"] == 1


def test_injected_errors_use_the_vendor_envelope(vendors: EmulatorCluster) -> None:
    control(vendors, "aliyun", "faults", {"action": "StartMPUTask", "type": "error", "code": "Service.BuildSignature",
                                          "status": 500, "count": 1})
    assert error(call(vendors, "StartMPUTask", start_params())) == (500, "Service.BuildSignature",
                                                                    "生成signature失败")
    assert call(vendors, "StartMPUTask", start_params()).status_code == 200


def sdk_client(secret: str = SECRET) -> AcsClient:
    return AcsClient(AK, secret, "cn-hangzhou", auto_retry=False)


def sdk_request(request: Any, vendors: EmulatorCluster, **params: Any) -> Any:
    request.set_protocol_type("http")
    request.set_endpoint(vendors.endpoints["aliyun"].split("://", 1)[1])
    for name, value in params.items():
        getattr(request, f"set_{name}")(value)
    return request


def test_official_sdk_round_trip(vendors: EmulatorCluster) -> None:
    client = sdk_client()
    start = sdk_request(StartMPUTaskRequest(), vendors, AppId=APP, ChannelId="room1", TaskId="sdk-1", MediaEncode=20,
                        LayoutIdss=[1, 2], StreamURL=URL_A, CropMode=1,
                        UserPaness=[{"PaneId": 0, "UserId": "host", "SourceType": "camera"}])
    assert "RequestId" in client.do_action_with_exception(start).decode()
    status = sdk_request(GetMPUTaskStatusRequest(), vendors, AppId=APP, TaskId="sdk-1")
    assert b'"Status": 1' in client.do_action_with_exception(status)
    layout = CommonRequest(version="2018-01-11", action_name="UpdateMPULayout", product="rtc")
    layout.set_method("POST")
    for key, value in {"AppId": APP, "TaskId": "sdk-1", "LayoutIds.1": 2, "UserPanes.1.PaneId": 1,
                       "UserPanes.1.UserId": "guest"}.items():
        layout.add_query_param(key, value)
    client.do_action_with_exception(sdk_request(layout, vendors))
    update = sdk_request(UpdateMPUTaskRequest(), vendors, AppId=APP, TaskId="sdk-1", LayoutIdss=[6], MediaEncode=30)
    client.do_action_with_exception(update)
    client.do_action_with_exception(sdk_request(StopMPUTaskRequest(), vendors, AppId=APP, TaskId="sdk-1"))
    task = control(vendors, "aliyun", "state")["tasks"]["sdk-1"]
    assert task["status"] == 3 and task["history"] == ["StartMPUTask", "UpdateMPULayout", "UpdateMPUTask", "StopMPUTask"]
    log = control(vendors, "aliyun", "requests")["log"]
    assert {entry["method"] for entry in log} == {"POST"}
    assert log[0]["params"]["RegionId"] == "cn-hangzhou" and log[0]["params"]["SignatureType"] == ""


def test_official_sdk_with_a_wrong_secret_gets_the_signature_error(vendors: EmulatorCluster) -> None:
    request = sdk_request(GetMPUTaskStatusRequest(), vendors, AppId=APP, TaskId="sdk-1")
    with pytest.raises(ServerException) as caught:
        sdk_client("not-the-secret").do_action_with_exception(request)
    assert (caught.value.get_http_status(), caught.value.get_error_code()) == (401, "Request.IllegalSignature")
