"""ZegoProvider maps every row of the ResumeRTCStream return code table, and the gateway codes ZEGO's
servers answer for the same failures, to a class, a transience and a message saying what to do."""

from __future__ import annotations

import pytest

from reconciler.emulator.cluster import EmulatorCluster
from reconciler.errors import VendorAuthError, VendorError, VendorRateLimited, VendorUnavailable
from reconciler.vendors.zego.errors import error_for
from tests.conftest import control
from tests.vendors.zego.test_provider import APP_ID, log, run

ROWS: list[tuple[int, type[VendorError], bool, str]] = [
    # the document's table
    (3000, VendorAuthError, False, "check Provider.appId or contact ZEGO support"),
    (3001, VendorUnavailable, True, "contact ZEGO support if it persists"),
    (5006, VendorUnavailable, True, "contact ZEGO support if it persists"),
    (30003, VendorUnavailable, True, "contact ZEGO support if it persists"),
    (3002, VendorError, True, "synchronise this machine's clock"),
    (3003, VendorAuthError, False, "ask ZEGO support to set it up"),
    (30002, VendorRateLimited, True, "backing off"),
    (30004, VendorError, False, "set `test: true` on the Provider only for a test-environment app"),
    (30005, VendorAuthError, False, "check Provider.appId"),
    (30009, VendorError, False, "use A-Z a-z 0-9 _ - only"),
    (40005, VendorAuthError, False, "serverSecret credential is the ServerSecret of this AppId"),
    # what ZEGO's gateway answers for the same failures
    (100000004, VendorAuthError, False, "synchronise it (NTP)"),
    (100000005, VendorAuthError, False, "serverSecret credential is the ServerSecret of this AppId"),
    (100000010, VendorAuthError, False, "check Provider.appId"),
]


@pytest.mark.parametrize(("number", "error_class", "transient", "advice"), ROWS, ids=[str(r[0]) for r in ROWS])
def test_each_code_is_mapped(number: int, error_class: type[VendorError], transient: bool, advice: str) -> None:
    err = error_for(number, "vendor text", action="ResumeRTCStream")
    assert (type(err), err.transient) == (error_class, transient)
    assert str(err).startswith(f"zego ResumeRTCStream failed: {number}: vendor text; ") and advice in str(err)


@pytest.mark.parametrize(("setting", "number"), [({"state": "invalid"}, 3000), ({"tokenConfigured": False}, 3003)])
def test_app_settings_fail_a_ban_once(vendors: EmulatorCluster, setting: dict[str, object], number: int) -> None:
    control(vendors, "zego", "account", {"appId": int(APP_ID), **setting})
    with pytest.raises(VendorAuthError) as caught:
        run(vendors, lambda p: p.start("StreamRule", {"streamId": "s1"}, {"streamId": "s1"}, lambda _h: None))
    assert caught.value.code == str(number)
    assert [e["outcome"] for e in log(vendors)] == [f"error:{number}"]


def test_a_wrong_secret_is_the_documents_40005(vendors: EmulatorCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZEGO_SERVER_SECRET", "0" * 32)
    with pytest.raises(VendorAuthError, match="40005: authentication failed; ZEGO rejected the signature"):
        run(vendors, lambda p: p.start("StreamRule", {"streamId": "s1"}, {"streamId": "s1"}, lambda _h: None))
