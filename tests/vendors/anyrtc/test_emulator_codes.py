"""Every error row of the anyRTC document ("常见错误" and the response status table), each with the exact
HTTP status and code the emulator answers, and the App-ID settings behind 62 and 501."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.emulator.cluster import EmulatorCluster
from tests.conftest import control
from tests.vendors.anyrtc.test_emulator import (
    APP,
    MIX,
    OTHER_APP,
    acquire,
    auth,
    call,
    error,
    session,
    start,
    started,
)

BODY = {"cname": "room1", "uid": "527841", "clientRequest": {}}
Answer = tuple[int, Any, str | None]


def _headers(**changes: str) -> dict[str, str]:
    return {**auth(), **changes}


def _raw(vendors: EmulatorCluster, content: bytes, headers: dict[str, str]) -> httpx.Response:
    url = f"{vendors.endpoints['anyrtc']}/v1/apps/{APP}/cloud_recording/acquire"
    return httpx.post(url, content=content, headers=headers, timeout=5)


def _start_twice(v: EmulatorCluster) -> httpx.Response:
    rid = acquire(v)
    assert start(v, MIX, rid=rid).status_code == 200
    return start(v, MIX, rid=rid)


def _stop_twice(v: EmulatorCluster) -> httpx.Response:
    rid, sid = started(v)
    session(v, rid, sid, "stop")
    return session(v, rid, sid, "stop")


def _recording_disabled(v: EmulatorCluster) -> httpx.Response:
    control(v, "anyrtc", "account", {"appId": APP, "cloudRecording": False})
    return call(v, "acquire", BODY)


def _expired(v: EmulatorCluster) -> httpx.Response:
    rid = acquire(v)
    control(v, "anyrtc", "clock", {"advance": 301})
    return start(v, MIX, rid=rid)


def _nobody_published(v: EmulatorCluster) -> httpx.Response:
    control(v, "anyrtc", "channels", {"cname": "room1", "usersPresent": False})
    rid, sid = started(v)
    return session(v, rid, sid, "stop")


def _exiting(v: EmulatorCluster) -> httpx.Response:
    control(v, "anyrtc", "account", {"appId": APP, "exitSeconds": 30})
    rid, sid = started(v)
    assert session(v, rid, sid, "stop").status_code == 200
    return session(v, rid, sid, "query")


def _sid_of_another_resource(v: EmulatorCluster) -> httpx.Response:
    first, _ = started(v)
    _, sid = started(v, uid="527842")
    return session(v, first, sid, "query")


def _fault(code: str | None, status: int) -> Callable[[EmulatorCluster], httpx.Response]:
    def trigger(v: EmulatorCluster) -> httpx.Response:
        control(v, "anyrtc", "faults", {"action": "acquire", "code": code, "status": status, "count": 1})
        return call(v, "acquire", BODY)
    return trigger


ROWS: list[tuple[str, Callable[[EmulatorCluster], httpx.Response], Answer]] = [
    ("2 bad parameter", lambda v: call(v, "acquire", {**BODY, "uid": "abc"}), (400, 2, None)),
    ("7 start repeated", _start_twice, (400, 7, None)),
    ("8 Content-type", lambda v: call(v, "acquire", BODY, headers=_headers(**{"Content-Type": "text/plain"})),
     (400, 8, None)),
    ("8 no charset", lambda v: call(v, "acquire", BODY, headers=_headers(**{"Content-Type": "application/json"})),
     (400, 8, None)),
    ("8 body not JSON", lambda v: _raw(v, b"{not json", auth()), (400, 8, None)),
    ("49 stop repeated", _stop_twice, (400, 49, None)),
    ("53 already recording", lambda v: (started(v), start(v, MIX))[1], (400, 53, None)),
    ("62 recording not enabled", _recording_disabled, (400, 62, "cloud recording is not enabled for this App ID")),
    ("65 network jitter", _fault("65", 400), (400, 65, "request failed because of network jitter")),
    ("432 mismatch", lambda v: start(v, MIX, rid=acquire(v), cname="room2"), (400, 432, None)),
    ("433 expired", _expired, (400, 433, None)),
    ("435 no file (HTTP 206)", _nobody_published, (206, 435, "no recorded file: nobody published")),
    ("501 exiting", _exiting, (400, 501, "the recording service is exiting")),
    ("1001 undecodable", lambda v: start(v, MIX, rid="not-a-resource"), (400, 1001, None)),
    ("1003 sid mismatch", _sid_of_another_resource, (400, 1003, "the sid does not match the resource ID")),
    ("1013 channel name", lambda v: call(v, "acquire", {**BODY, "cname": "room/1"}), (400, 1013, None)),
    ("1028 updateLayout body", lambda v: session(v, *started(v), "updateLayout", {"layout": 1}), (400, 1028, None)),
    ("invalid appid", lambda v: call(v, "acquire", BODY, app="nobody"), (400, None, "invalid appid")),
    ("no Route matched", lambda v: call(v, "acquire", BODY, method="GET"),
     (404, None, "no Route matched with those values")),
    ("401 wrong secret", lambda v: call(v, "acquire", BODY, headers=auth(secret="wrong")),
     (401, None, "Invalid authentication credentials")),
    ("401 App ID of another customer", lambda v: call(v, "acquire", BODY, app=OTHER_APP),
     (401, None, "Invalid authentication credentials")),
    ("401 recording not enabled (not acquire)", lambda v: (
        control(v, "anyrtc", "account", {"appId": APP, "cloudRecording": False}),
        call(v, "resourceid/r/sid/s/mode/mix/query", method="GET"))[1],
     (401, None, "Invalid authentication credentials")),
    ("401 Authorization without Basic", lambda v: call(v, "acquire", BODY, headers=_headers(
        Authorization=auth()["Authorization"].removeprefix("Basic "))), (401, None, "Invalid authentication credentials")),
    ("401 Content-Type miscased", lambda v: call(v, "acquire", BODY, headers=_headers(
        **{"Content-Type": "Application/JSON;charset=UTF-8"})), (401, None, "Invalid authentication credentials")),
    ("401 Content-Type with a space", lambda v: call(v, "acquire", BODY, headers=_headers(
        **{"Content-Type": "application/json; charset=utf-8"})), (401, None, "Invalid authentication credentials")),
    ("401 Content-Type miscased on a query", lambda v: call(v, "resourceid/r/sid/s/mode/mix/query", method="GET",
                                                            headers=_headers(**{"Content-Type": "application/JSON;charset=utf-8"})),
     (401, None, "Invalid authentication credentials")),
    ("404 recording ended", lambda v: session(v, *_stop_and_keep(v), "query"), (404, 404, "failed to find worker")),
    ("500 server error", _fault(None, 500), (500, None, "internal error")),
    ("504 gateway timeout", _fault(None, 504), (504, None, "internal error")),
]


def _stop_and_keep(v: EmulatorCluster) -> tuple[str, str]:
    rid, sid = started(v)
    session(v, rid, sid, "stop")
    return rid, sid


@pytest.fixture
def anyrtc(vendors: EmulatorCluster) -> EmulatorCluster:
    control(vendors, "anyrtc", "limits", {"action": "cloud_recording", "perSecond": 1000})
    return vendors


@pytest.mark.parametrize(("trigger", "expected"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_each_error_row(anyrtc: EmulatorCluster, trigger: Callable[[EmulatorCluster], httpx.Response],
                        expected: Answer) -> None:
    answer = error(trigger(anyrtc))
    status, code, text = expected
    assert answer[:2] == (status, code)
    if text is not None:
        assert answer[2] == text


def test_recording_permission_and_exit_window_are_app_settings(anyrtc: EmulatorCluster) -> None:
    control(anyrtc, "anyrtc", "account", {"appId": APP, "cloudRecording": False})
    assert error(call(anyrtc, "acquire", BODY))[:2] == (400, 62)
    assert call(anyrtc, "acquire", BODY, app=OTHER_APP, headers=auth("demo-anyrtc-customer-2",
                                                                      "demo-anyrtc-secret-2b")).status_code == 200
    control(anyrtc, "anyrtc", "account", {"appId": APP, "cloudRecording": True})
    control(anyrtc, "anyrtc", "account", {"appId": APP, "exitSeconds": 5})
    rid, sid = started(anyrtc)
    session(anyrtc, rid, sid, "stop")
    assert error(session(anyrtc, rid, sid, "query"))[:2] == (400, 501)
    control(anyrtc, "anyrtc", "clock", {"advance": 6})
    assert error(session(anyrtc, rid, sid, "query"))[:2] == (404, 404)
    control(anyrtc, "anyrtc", "reset", {})
    assert call(anyrtc, "acquire", BODY).status_code == 200  # reset enables cloud recording again


def test_the_exact_content_type_is_accepted(anyrtc: EmulatorCluster) -> None:
    assert call(anyrtc, "acquire", BODY, headers=auth()).status_code == 200


@pytest.mark.parametrize("body", [{"appId": "nobody"}, {"appId": APP, "exitSeconds": -1}])
def test_bad_account_settings_are_refused(anyrtc: EmulatorCluster, body: dict[str, Any]) -> None:
    response = httpx.post(anyrtc.endpoints["anyrtc"] + "/_emulator/account", json=body, timeout=5)
    assert response.status_code == 400
