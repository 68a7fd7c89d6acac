"""TencentProvider knows every row of both Tencent code tables, with the transience the tables' own advice
gives ("please retry", "reduce the request frequency" -> retried; everything else needs a person), and
meets the emulator's app and room settings as the vendor would answer them."""

from __future__ import annotations

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
from reconciler.vendors.tencent.errors import CODES, error_for
from tests.conftest import control
from tests.vendors.tencent.test_provider import FAST, HANDLES, WEBINAR, log, run

SEED_ROWS: list[tuple[int, type[VendorError], bool]] = [
    (100001, VendorUnavailable, True), (100002, VendorError, False), (100006, VendorConflict, False),
    (100004, VendorNotFound, False), (100007, VendorAuthError, False), (100422, VendorRateLimited, True),
    (100424, VendorNotFound, False), (100427, VendorRateLimited, True), (100428, VendorUnavailable, True),
    (100429, VendorError, False),
    (60002, VendorError, False), (60003, VendorError, False), (60004, VendorAuthError, False),
    (60005, VendorAuthError, False), (60006, VendorAuthError, False), (60007, VendorRateLimited, True),
    (60008, VendorUnavailable, True), (60009, VendorError, False), (60010, VendorAuthError, False),
    (60011, VendorRateLimited, True), (60012, VendorError, False), (60013, VendorUnavailable, True),
    (60014, VendorUnavailable, True), (60015, VendorError, False), (60016, VendorAuthError, False),
    (60017, VendorAuthError, False), (60018, VendorRateLimited, True), (60019, VendorRateLimited, True),
    (60020, VendorAuthError, False), (60021, VendorAuthError, False),
]


@pytest.mark.parametrize(("code", "error_class", "transient"), SEED_ROWS, ids=[str(r[0]) for r in SEED_ROWS])
def test_each_row_of_both_tables_is_mapped(code: int, error_class: type[VendorError], transient: bool) -> None:
    assert code in CODES
    err = error_for(code, "vendor text", action="set_mix_stream")
    assert type(err) is error_class and err.transient is transient
    assert str(err).startswith(f"tencent set_mix_stream failed: {code}: vendor text; {CODES[code].advice}")


@pytest.mark.parametrize(("setting", "code", "advice"), [
    ({"disabled": True}, 60016, "the SDKAppID is disabled at Tencent"),
    ({"packageExpired": True}, 60020, "renew it in the console"),
    ({"ipAllowed": False}, 60021, "update the app's IP allowlist"),
    ({"blockedCommands": ["set_mix_stream"]}, 60017, "Tencent disabled this request for the app"),
    ({"mixingPlan": False}, 100007, "the app's paid plan does not include stream mixing"),
])
def test_app_settings_fail_the_start_once(vendors: EmulatorCluster, setting: dict[str, object], code: int,
                                          advice: str) -> None:
    control(vendors, "tencent", "account", {"sdkAppId": 1400000001, **setting})
    with pytest.raises(VendorAuthError) as caught:
        run(vendors, lambda p: p.start("MixTask", HANDLES, WEBINAR, lambda _h: None))
    assert caught.value.code == str(code) and advice in str(caught.value)
    assert [entry["outcome"] for entry in log(vendors)] == [f"error:{code}"]


def test_a_room_without_host_information_is_retried_then_reported(vendors: EmulatorCluster) -> None:
    control(vendors, "tencent", "rooms", {"roomId": WEBINAR["channel"], "hostInfo": False})
    with pytest.raises(VendorUnavailable, match="Tencent could not fetch the hosts of the room; retried"):
        run(vendors, lambda p: p.start("MixTask", HANDLES, WEBINAR, lambda _h: None))
    assert [entry["outcome"] for entry in log(vendors)] == ["error:100428"] * FAST.attempts
