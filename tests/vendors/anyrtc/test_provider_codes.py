"""AnyrtcProvider maps every error row of the document to a class, a transience and a message saying what
to do; the App-ID settings of the emulator reach it as the vendor would answer them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.emulator.cluster import EmulatorCluster
from reconciler.errors import (
    VendorAuthError,
    VendorConflict,
    VendorError,
    VendorNotFound,
    VendorRateLimited,
    VendorUnavailable,
)
from reconciler.vendors.anyrtc.errors import vendor_error
from tests.conftest import control
from tests.vendors.anyrtc.test_emulator import session
from tests.vendors.anyrtc.test_provider import actions, begin, observe

ROWS: list[tuple[int, dict[str, Any], type[VendorError], bool, str]] = [
    (400, {"code": 2}, VendorError, False, "`reconciler validate` should have caught it"),
    (400, {"code": 7}, VendorConflict, False, "this resource ID already started a recording"),
    (400, {"code": 8}, VendorError, False, "the request header or body was refused (Content-Type, method or JSON)"),
    (400, {"code": 49}, VendorConflict, False, "the recording was already stopped"),
    (400, {"code": 53}, VendorConflict, False, "give this Recording another recorderUid"),
    (400, {"code": 62}, VendorAuthError, False, "enable it in the anyRTC console"),
    (400, {"code": 65}, VendorUnavailable, True, "retried with the same resource ID"),
    (400, {"code": 432}, VendorError, False, "does not match the resource ID"),
    (400, {"code": 433}, VendorError, False, "the resource ID expired"),
    (206, {"code": 435}, VendorNotFound, False, "nobody published in the channel"),
    (400, {"code": 501}, VendorError, False, "the recording service is exiting"),
    (400, {"code": 1001}, VendorNotFound, False, "a new one is needed"),
    (400, {"code": 1003}, VendorConflict, False, "the sid does not belong to this resource ID"),
    (400, {"code": 1013}, VendorError, False, "the channel name is not valid at anyRTC"),
    (400, {"code": 1028}, VendorError, False, "the updateLayout body was refused"),
    (400, {"message": "invalid appid"}, VendorAuthError, False, "App ID app-1 is not known to anyRTC"),
    (404, {"message": "no Route matched with those values"}, VendorError, False, "check the Provider endpoint"),
    (401, {"message": "Invalid authentication credentials"}, VendorAuthError, False,
     "check customerId/customerSecret of Provider/p, that App ID app-1 belongs to that customer and that cloud "
     "recording is enabled for it in the anyRTC console"),
    (404, {"code": 404, "reason": "failed to find worker"}, VendorNotFound, False, "the recording does not run"),
    (429, {"message": "API rate limit exceeded"}, VendorRateLimited, True, "10 requests/s per App ID"),
    (500, {"message": "internal error"}, VendorUnavailable, True, "internal error"),
    (504, {"message": "internal error"}, VendorUnavailable, True, "internal error"),
]


@pytest.mark.parametrize(("status", "body", "error_class", "transient", "advice"), ROWS,
                         ids=[f"{r[0]}-{r[1].get('code', r[1].get('message'))}" for r in ROWS])
def test_each_error_row_is_mapped(status: int, body: dict[str, Any], error_class: type[VendorError],
                                  transient: bool, advice: str) -> None:
    err = vendor_error("anyrtc", "acquire", httpx.Response(status, json=body), "p", "app-1")
    assert (type(err), err.transient, err.http_status) == (error_class, transient, status)
    assert advice in str(err)


@pytest.fixture
def anyrtc(vendors: EmulatorCluster) -> EmulatorCluster:
    control(vendors, "anyrtc", "limits", {"action": "cloud_recording", "perSecond": 1000})
    return vendors


def test_an_app_without_cloud_recording_fails_at_acquire_once(anyrtc: EmulatorCluster) -> None:
    control(anyrtc, "anyrtc", "account", {"appId": "demo-anyrtc-app", "cloudRecording": False})
    with pytest.raises(VendorAuthError, match="cloud recording is not enabled for this App ID: enable it in the "
                                              "anyRTC console"):
        begin(anyrtc)
    assert actions(anyrtc) == [("acquire", "error:62")]


def test_a_recorder_still_exiting_is_observed_as_not_running(anyrtc: EmulatorCluster) -> None:
    control(anyrtc, "anyrtc", "account", {"appId": "demo-anyrtc-app", "exitSeconds": 30})
    handles = begin(anyrtc)
    session(anyrtc, handles["resourceId"], handles["sid"], "stop", cname=handles["cname"], uid=handles["uid"])
    seen = observe(anyrtc, handles)
    assert (seen.status, actions(anyrtc)[-1]) == ("inactive", ("query", "error:501"))
