"""Every row of the Aliyun document's code table, and the business states behind its HTTP-200 codes and the
task statuses, set as account, channel and StreamURL settings through /_emulator/ (no fault injection)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx
import pytest
from conftest import control

from reconciler.emulator.cluster import EmulatorCluster
from reconciler.vendors.aliyun.codes import SEED_ROWS
from tests.vendors.aliyun.test_emulator import (
    APP,
    OTHER_AK,
    SECRET,
    URL_A,
    call,
    error,
    send,
    signed,
    start_params,
    status_of,
)

Trigger = Callable[[EmulatorCluster], httpx.Response]


def _without(name: str) -> Trigger:
    def trigger(vendors: EmulatorCluster) -> httpx.Response:
        params = signed("GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1"})
        return send(vendors, {k: v for k, v in params.items() if k != name})
    return trigger


def _nonce_twice(vendors: EmulatorCluster) -> httpx.Response:
    nonce = uuid.uuid4().hex
    call(vendors, "GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1"}, nonce=nonce)
    return call(vendors, "GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1"}, nonce=nonce)


def _malformed_timestamp(vendors: EmulatorCluster) -> httpx.Response:
    return send(vendors, signed("GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1", "Timestamp": "2024-13-01 10:00"}))


def _account(**settings: object) -> Trigger:
    def trigger(vendors: EmulatorCluster) -> httpx.Response:
        control(vendors, "aliyun", "account", {"appId": APP, **settings})
        return call(vendors, "StartMPUTask", start_params())
    return trigger


def _channel_absent(vendors: EmulatorCluster) -> httpx.Response:
    control(vendors, "aliyun", "channels", {"appId": APP, "channelId": "room1", "state": "absent"})
    return call(vendors, "StartMPUTask", start_params())


def _channels_exceeded(vendors: EmulatorCluster) -> httpx.Response:
    control(vendors, "aliyun", "account", {"appId": APP, "maxChannels": 1})
    assert call(vendors, "StartMPUTask", start_params("t1")).status_code == 200
    return call(vendors, "StartMPUTask", start_params("t2", "rtmp://push.example.com/live/b", ChannelId="room2"))


# the rows the emulator reaches through the API itself; the others are answered through fault rules
NATURAL: dict[str, Trigger] = {
    "Request.NoTimestamp": _without("Timestamp"),
    "Request.NoSignature": _without("Signature"),
    "Request.NoNonce": _without("SignatureNonce"),
    "Request.NoAppID": lambda v: call(v, "GetMPUTaskStatus", {"TaskId": "t1"}),
    "Request.NoChannelID": lambda v: call(v, "StartMPUTask", {k: x for k, x in start_params().items()
                                                             if k != "ChannelId"}),
    "Request.InvalidAppID": lambda v: call(v, "GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1"}, key_id=OTHER_AK,
                                           secret="otherSecretForAliyunEmulator02"),
    "Request.InvalidChannelID": lambda v: call(v, "StartMPUTask", start_params(ChannelId="bad channel!")),
    "Request.InvalidNonce": _nonce_twice,
    "Request.InvalidTimestamp": _malformed_timestamp,
    "Request.IllegalTimestamp": lambda v: call(v, "GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1"},
                                               timestamp=time.time() - 16 * 60),
    "Request.IllegalSignature": lambda v: call(v, "GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1"},
                                               secret="wrong-" + SECRET),
    "Request.IllegalAuth": lambda v: call(v, "GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1"},
                                          key_id="LTAI5tNobodyHasThisKey", secret="x"),
    "Service.NoApp": lambda v: call(v, "GetMPUTaskStatus", {"AppId": "nobody-has-this-app", "TaskId": "t1"}),
    "Service.Inactive": _account(service="inactive"),
    "Service.NoExist": _account(service="absent"),
    "App.Stop": _account(app="stopped"),
    "App.ChargeOverDue": _account(app="overdue"),
    "Channel.NoExist": _channel_absent,
    "Channel.Exceeds": _channels_exceeded,
}
FIRST_ROW = {name: hex_code for hex_code, _, name, _ in reversed(SEED_ROWS)}


def test_the_table_is_the_documents() -> None:
    assert len(SEED_ROWS) == 57 and len({row[0] for row in SEED_ROWS}) == 57
    assert set(NATURAL) <= {row[2] for row in SEED_ROWS}


@pytest.mark.parametrize(("hex_code", "status", "name", "description"), SEED_ROWS, ids=[r[0] for r in SEED_ROWS])
def test_each_row_of_the_code_table(vendors: EmulatorCluster, hex_code: str, status: int, name: str,
                                    description: str) -> None:
    if name in NATURAL and FIRST_ROW[name] == hex_code:
        response = NATURAL[name](vendors)
    elif FIRST_ROW[name] == hex_code:  # not reachable through the MPU actions: the emulator still knows the row
        control(vendors, "aliyun", "faults", {"action": "GetMPUTaskStatus", "code": name, "count": 1})
        response = call(vendors, "GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1"})
        assert error(response)[2] == description
    else:  # the document lists this name twice; its 200 row is the business form of the same refusal
        control(vendors, "aliyun", "faults", {"action": "GetMPUTaskStatus", "code": name, "status": status,
                                              "count": 1})
        response = call(vendors, "GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1"})
    assert error(response)[:2] == (status, name)


# -- business states ---------------------------------------------------------------------------------

def test_an_inactive_service_refuses_every_action_with_http_200_until_activated(vendors: EmulatorCluster) -> None:
    assert call(vendors, "StartMPUTask", start_params()).status_code == 200
    control(vendors, "aliyun", "account", {"appId": APP, "service": "inactive"})
    for action, params in (("GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1"}), ("StartMPUTask", start_params("t2")),
                           ("StopMPUTask", {"AppId": APP, "TaskId": "t1"})):
        assert error(call(vendors, action, params))[:2] == (200, "Service.Inactive"), action
    assert control(vendors, "aliyun", "business")["apps"][APP]["service"] == "inactive"
    control(vendors, "aliyun", "account", {"appId": APP, "service": "active"})
    assert status_of(vendors) == 1  # the task kept running: the service refused calls, not the mix


@pytest.mark.parametrize(("app", "code"), [("stopped", "App.Stop"), ("overdue", "App.ChargeOverDue")])
def test_a_stopped_or_overdue_app_stops_its_tasks_with_status_2(vendors: EmulatorCluster, app: str, code: str) -> None:
    assert call(vendors, "StartMPUTask", start_params()).status_code == 200
    control(vendors, "aliyun", "account", {"appId": APP, "app": app})
    assert error(call(vendors, "GetMPUTaskStatus", {"AppId": APP, "TaskId": "t1"}))[:2] == (200, code)
    control(vendors, "aliyun", "account", {"appId": APP, "app": "active"})
    assert status_of(vendors) == 2
    assert control(vendors, "aliyun", "state")["tasks"]["t1"]["history"][-1] == f"account:app={app}"


def test_the_channel_limit_counts_channels_with_live_tasks(vendors: EmulatorCluster) -> None:
    control(vendors, "aliyun", "account", {"appId": APP, "maxChannels": 1})
    assert call(vendors, "StartMPUTask", start_params("t1")).status_code == 200
    second_url = "rtmp://push.example.com/live/b"
    assert call(vendors, "StartMPUTask", start_params("t2", second_url)).status_code == 200  # same channel
    other = start_params("t3", "rtmp://push.example.com/live/c", ChannelId="room2")
    assert error(call(vendors, "StartMPUTask", other))[:2] == (200, "Channel.Exceeds")
    for task in ("t1", "t2"):
        assert call(vendors, "StopMPUTask", {"AppId": APP, "TaskId": task}).status_code == 200
    assert call(vendors, "StartMPUTask", start_params("t4", "rtmp://push.example.com/live/c",
                                                      ChannelId="room2")).status_code == 200


def test_channel_states_drive_statuses_0_1_and_4(vendors: EmulatorCluster) -> None:
    control(vendors, "aliyun", "channels", {"appId": APP, "channelId": "room1", "state": "waiting"})
    assert call(vendors, "StartMPUTask", start_params()).status_code == 200
    assert status_of(vendors) == 0
    control(vendors, "aliyun", "channels", {"appId": APP, "channelId": "room1", "state": "live"})
    assert status_of(vendors) == 1
    control(vendors, "aliyun", "channels", {"appId": APP, "channelId": "room1", "state": "ended"})
    assert status_of(vendors) == 4
    control(vendors, "aliyun", "clock", {"advance": 11})  # past the StreamURL's reuse window
    assert call(vendors, "StartMPUTask", start_params("t2")).status_code == 200
    assert status_of(vendors, "t2") == 0  # a new task waits for the channel to start again


@pytest.mark.parametrize(("state", "status"), [("cdn-failure", 5), ("url-invalid", 6)])
def test_stream_url_problems_stop_tasks_with_status_5_or_6(vendors: EmulatorCluster, state: str, status: int) -> None:
    assert call(vendors, "StartMPUTask", start_params()).status_code == 200
    control(vendors, "aliyun", "stream-urls", {"streamUrl": URL_A, "state": state})
    assert status_of(vendors) == status
    control(vendors, "aliyun", "clock", {"advance": 11})
    assert call(vendors, "StartMPUTask", start_params("t2")).status_code == 200
    assert status_of(vendors, "t2") == status  # the URL still fails: the new task stops at once
    control(vendors, "aliyun", "stream-urls", {"streamUrl": URL_A, "state": "ok"})
    assert call(vendors, "StartMPUTask", start_params("t3")).status_code == 200
    assert status_of(vendors, "t3") == 1


def test_stop_by_the_user_is_status_3_and_reset_forgets_the_settings(vendors: EmulatorCluster) -> None:
    assert call(vendors, "StartMPUTask", start_params()).status_code == 200
    assert call(vendors, "StopMPUTask", {"AppId": APP, "TaskId": "t1"}).status_code == 200
    assert status_of(vendors) == 3
    control(vendors, "aliyun", "account", {"appId": APP, "service": "inactive"})
    control(vendors, "aliyun", "reset", {})
    assert control(vendors, "aliyun", "business") == {"apps": {}, "channels": {}, "streamUrls": {}}


@pytest.mark.parametrize("body", [
    {"appId": "nobody", "service": "inactive"}, {"appId": APP, "service": "asleep"}, {"appId": APP, "app": "gone"},
    {"appId": APP, "maxChannels": -1},
])
def test_bad_account_settings_are_refused(vendors: EmulatorCluster, body: dict[str, object]) -> None:
    response = httpx.post(vendors.endpoints["aliyun"] + "/_emulator/account", json=body, timeout=5)
    assert response.status_code == 400 and "error" in response.json()
