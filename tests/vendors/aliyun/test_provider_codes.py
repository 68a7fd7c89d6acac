"""AliyunProvider maps every row of the document's code table and the gateway codes it may meet to an
error class, a transience and a message saying what to do; the business states reach it as such."""

from __future__ import annotations

import pytest
from conftest import control

from reconciler.emulator.cluster import EmulatorCluster
from reconciler.errors import (
    VendorAuthError,
    VendorConflict,
    VendorError,
    VendorNotFound,
    VendorRateLimited,
    VendorUnavailable,
)
from reconciler.vendors.aliyun.codes import SEED_ROWS
from reconciler.vendors.aliyun.provider import vendor_error
from tests.vendors.aliyun.test_provider import TOWNHALL, handles, logged, run


def _expected_class(status: int) -> tuple[type[VendorError], bool]:
    if status == 401:
        return VendorAuthError, False
    if status >= 500:
        return VendorUnavailable, True
    return VendorError, False


@pytest.mark.parametrize(("hex_code", "status", "name", "description"), SEED_ROWS, ids=[r[0] for r in SEED_ROWS])
def test_each_row_of_the_code_table_is_mapped(hex_code: str, status: int, name: str, description: str) -> None:
    err = vendor_error(name, description, status, provider="ali-demo", action="StartMPUTask")
    error_class, transient = _expected_class(status)
    assert (type(err), err.transient, err.http_status, err.code) == (error_class, transient, status, name)
    assert str(err).startswith(f"aliyun StartMPUTask failed: {name}: {description}; ")  # advice follows


@pytest.mark.parametrize(("code", "status", "error_class", "transient", "advice"), [
    ("SignatureNonceUsed", 400, VendorError, False, "the vendor saw this SignatureNonce before (a replayed request, "
                                                    "which may have taken effect); apply again, which observes first"),
    ("InvalidTimeStamp.Expired", 400, VendorAuthError, False,
     "check this machine's clock: requests must be within 15 minutes of UTC"),
    ("InvalidTimeStamp.Format", 400, VendorError, False, "please report this as a bug"),
    ("SignatureDoesNotMatch", 400, VendorAuthError, False, "check the AccessKey id/secret referenced by "
                                                           "Provider/ali-demo"),
    ("InvalidAccessKeyId.NotFound", 404, VendorAuthError, False, "check the AccessKey id/secret"),
    ("InvalidAccessKeyId.Inactive", 400, VendorAuthError, False, "check the AccessKey id/secret"),
    ("Forbidden.RAM", 403, VendorAuthError, False, "lacks permission for this RTC action; grant it in the RAM console"),
    ("Throttling.Api", 400, VendorRateLimited, True, ""),
    ("Throttling.User", 400, VendorRateLimited, True, ""),
    ("ServiceUnavailable", 503, VendorUnavailable, True, "the vendor failed internally; it is retried"),
    ("InternalError", 500, VendorUnavailable, True, "the vendor failed internally; it is retried"),
    ("MissingParameter", 400, VendorError, False, "please report this as a bug"),
    ("InvalidTask.NotFound", 404, VendorNotFound, False, ""),
    ("StreamURL.RecentlyStopped", 400, VendorConflict, True, "retried after a pause"),
])
def test_gateway_codes_are_mapped(code: str, status: int, error_class: type[VendorError], transient: bool,
                                  advice: str) -> None:
    err = vendor_error(code, "text.", status, provider="ali-demo", action="StartMPUTask")
    assert (type(err), err.transient) == (error_class, transient)
    assert advice in str(err)


@pytest.mark.parametrize(("setting", "code", "advice"), [
    ({"service": "inactive"}, "Service.Inactive", "the RTC service is not activated for this account; activate it "
                                                  "in the console"),
    ({"service": "absent"}, "Service.NoExist", "the RTC service does not exist for this account"),
    ({"app": "stopped"}, "App.Stop", "the app is disabled: re-enable the AppId in the RTC console"),
    ({"app": "overdue"}, "App.ChargeOverDue", "the account is overdue: top it up, then apply again"),
])
def test_business_states_fail_the_start_once_without_retry(vendors: EmulatorCluster, setting: dict[str, str],
                                                           code: str, advice: str) -> None:
    control(vendors, "aliyun", "account", {"appId": "demo-aliyun-app", **setting})
    with pytest.raises(VendorError) as caught:
        run(vendors, lambda p: p.start("MixTask", handles(), TOWNHALL, lambda h: None))
    assert (caught.value.code, caught.value.http_status, caught.value.transient) == (code, 200, False)
    assert advice in str(caught.value)
    assert logged(vendors) == [("StartMPUTask", f"error:{code}")]


def test_a_full_channel_limit_is_reported_as_such(vendors: EmulatorCluster) -> None:
    control(vendors, "aliyun", "account", {"appId": "demo-aliyun-app", "maxChannels": 0})
    with pytest.raises(VendorError, match="the app has reached its channel limit: delete channels no longer used"):
        run(vendors, lambda p: p.start("MixTask", handles(), TOWNHALL, lambda h: None))


@pytest.mark.parametrize(("setting", "status", "detail"), [
    (("channels", {"appId": "demo-aliyun-app", "channelId": TOWNHALL["channel"], "state": "waiting"}), "active",
     "waiting for the channel to start"),
    (("channels", {"appId": "demo-aliyun-app", "channelId": TOWNHALL["channel"], "state": "ended"}), "inactive",
     "status 4: the channel ended"),
    (("account", {"appId": "demo-aliyun-app", "app": "stopped"}), "inactive", "status 2: stopped"),
    (("stream-urls", {"streamUrl": TOWNHALL["output"]["streamUrl"], "state": "cdn-failure"}), "inactive",
     "status 5: CDN network problem, the live stream stopped"),
    (("stream-urls", {"streamUrl": TOWNHALL["output"]["streamUrl"], "state": "url-invalid"}), "inactive",
     "status 6: stream URL problem, the live stream stopped"),
])
def test_observe_reports_each_task_status_the_emulator_models(vendors: EmulatorCluster,
                                                              setting: tuple[str, dict[str, str]],
                                                              status: str, detail: str) -> None:
    task, before_start = handles(), setting[1].get("state") == "waiting"
    if before_start:
        control(vendors, "aliyun", *setting)  # nobody is in the channel yet
    run(vendors, lambda p: p.start("MixTask", task, TOWNHALL, lambda h: None))
    if not before_start:
        control(vendors, "aliyun", *setting)
    if setting[1].get("app"):
        control(vendors, "aliyun", "account", {"appId": "demo-aliyun-app", "app": "active"})
    seen = run(vendors, lambda p: p.observe("MixTask", task, None))
    assert (seen.status, seen.detail) == (status, detail)
