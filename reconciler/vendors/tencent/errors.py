"""Tencent REST error codes -> our error tree, `transient` from Tencent's own tables.

Sources: the REST conventions document (60002-60021) and resume_mcu_task (100001-100429).
"""

from __future__ import annotations

from reconciler.errors import (
    CodeInfo,
    VendorAuthError,
    VendorConflict,
    VendorError,
    VendorNotFound,
    VendorRateLimited,
    VendorUnavailable,
)

_SIG = ("Tencent rejected the UserSig: check that the Provider's key credential is the secret key of this "
        "SDKAppID and that the admin identifier is right")
_SLOW = CodeInfo(VendorRateLimited, True, "Tencent throttled the call; backing off")

CODES: dict[int, CodeInfo] = {
    60002: CodeInfo(VendorError, False, "Tencent could not parse the HTTP request; check Provider.endpoint"),
    60003: CodeInfo(VendorError, False, "Tencent could not parse the JSON body"),
    60004: CodeInfo(VendorAuthError, False, _SIG),
    60005: CodeInfo(VendorAuthError, False, _SIG),
    60006: CodeInfo(VendorAuthError, False, "Tencent does not know this SDKAppID; check Provider.appId"),
    60007: _SLOW,
    60008: CodeInfo(VendorUnavailable, True, "Tencent timed out; retried"),
    60009: CodeInfo(VendorError, False, "Tencent has no such API here; check Provider.endpoint (the SDKAppID's region)"),
    60010: CodeInfo(VendorAuthError, False, "the identifier is not an App admin; set Provider.admin to the App admin "
                                            "account shown in the Tencent console"),
    60011: _SLOW,
    60012: CodeInfo(VendorError, False, "the request lacked the SDKAppID"),
    60013: CodeInfo(VendorUnavailable, True, "Tencent could not parse its own answer; retried"),
    60014: CodeInfo(VendorUnavailable, True, "Tencent timed out switching accounts; retried"),
    60015: CodeInfo(VendorError, False, "an account in the body is not a string"),
    60016: CodeInfo(VendorAuthError, False, "the SDKAppID is disabled at Tencent"),
    60017: CodeInfo(VendorAuthError, False, "Tencent disabled this request for the app"),
    60018: _SLOW,
    60019: _SLOW,
    60020: CodeInfo(VendorAuthError, False, "the app's Tencent package expired; renew it in the console"),
    60021: CodeInfo(VendorAuthError, False, "Tencent refuses calls from this IP address; update the app's IP allowlist"),
    100001: CodeInfo(VendorUnavailable, True, "Tencent internal error; retried"),
    100002: CodeInfo(VendorError, False, "Tencent refused a parameter; see the message"),
    100004: CodeInfo(VendorNotFound, False, "the room does not exist or was dissolved; the mix runs only while its "
                                            "live room exists"),
    100006: CodeInfo(VendorConflict, False, "the room is not a live room created with IsUnlimitedRoomEnabled=true, "
                                            "so it cannot be mixed"),
    100007: CodeInfo(VendorAuthError, False, "the app's paid plan does not include stream mixing"),
    100422: CodeInfo(VendorRateLimited, True, "over 20 mixing operations per second for this SDKAppID; backing off"),
    100424: CodeInfo(VendorNotFound, False, "the room has no mix task"),
    100427: CodeInfo(VendorRateLimited, True, "mixing operations in this room are too fast; backing off"),
    100428: CodeInfo(VendorUnavailable, True, "Tencent could not fetch the hosts of the room; retried"),
    100429: CodeInfo(VendorError, False, "Tencent refused the LayoutMode"),
}


def error_for(code: int, message: str, *, action: str, request_id: str = "") -> VendorError:
    info = CODES.get(code) or CodeInfo(VendorError, False, "see Tencent's error code table")
    return info.make("tencent", str(code), message, action=action, request_id=request_id)
