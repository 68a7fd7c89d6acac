"""anyRTC cloud recording answers -> VendorError subclasses, from the vendor's code table.

`transient` follows the document: 65 (network jitter) and 429 are worth retrying, as are 5xx and
transport failures; everything else needs a change by a person first, and the message says which.
"""

from __future__ import annotations

import httpx

from reconciler.errors import (
    VendorAuthError,
    VendorConflict,
    VendorError,
    VendorNotFound,
    VendorRateLimited,
    VendorUnavailable,
)
from reconciler.secrets import REDACTOR

JITTER_DELAYS = (3.0, 6.0)  # code 65: retry with the same resource ID after 3 s, then 6 s

# code -> (error class, transient, what to do)
CODES: dict[str, tuple[type[VendorError], bool, str]] = {
    "2": (VendorError, False, ("a parameter was refused; `reconciler validate` should have caught it: please "
                              "report it with the manifest")),
    "7": (VendorConflict, False, "this resource ID already started a recording"),
    "8": (VendorError, False, "the request header or body was refused (Content-Type, method or JSON)"),
    "49": (VendorConflict, False, "the recording was already stopped"),
    "53": (VendorConflict, False, ("this channel already has a recording with this uid; give this Recording "
                                  "another recorderUid for a second recording")),
    "62": (VendorAuthError, False, "cloud recording is not enabled for this App ID: enable it in the anyRTC console"),
    "65": (VendorUnavailable, True, "network jitter at anyRTC; retried with the same resource ID"),
    "109": (VendorAuthError, False, "the RTC token expired: put a new one where spec.token points"),
    "110": (VendorAuthError, False, "the RTC token is wrong: check the token spec.token points at"),
    "404": (VendorNotFound, False, "the recording does not run (any more)"),
    "432": (VendorError, False, "the App ID, channel or uid does not match the resource ID"),
    "433": (VendorError, False, "the resource ID expired (5 minutes after acquire)"),
    "435": (VendorNotFound, False, "no file was recorded: nobody published in the channel"),
    "501": (VendorError, False, "the recording service is exiting"),
    "1001": (VendorNotFound, False, "the resource ID cannot be decoded: a new one is needed"),
    "1003": (VendorConflict, False, ("the sid does not belong to this resource ID or App ID: the state names a "
                                    "recording of another App ID")),
    "1013": (VendorError, False, "the channel name is not valid at anyRTC"),
    "1028": (VendorError, False, "the updateLayout body was refused"),
}


def jitter_delay(exc: VendorError) -> float:
    """At least the vendor's advised pause before retrying code 65."""
    return JITTER_DELAYS[0] if exc.code == "65" else 0.0


def vendor_error(vendor: str, action: str, response: httpx.Response, provider: str, app_id: str) -> VendorError:
    try:
        data = response.json()
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    status = response.status_code
    said = REDACTOR(str(data.get("reason") or data.get("message") or response.reason_phrase or ""))
    if status == 401:
        return VendorAuthError(vendor, "401", f"{said}: check customerId/customerSecret of Provider/{provider}, "
                               f"that App ID {app_id} belongs to that customer and that cloud recording is enabled "
                               "for it in the anyRTC console", action=action, http_status=status)
    if status == 429:
        return VendorRateLimited(vendor, "429", f"{said} (10 requests/s per App ID)", action=action,
                                 http_status=status)
    code = data.get("code")
    if code is None:
        if status == 404:
            return VendorError(vendor, "404", f"{said}: the endpoint does not serve the anyRTC cloud recording API; "
                               "check the Provider endpoint", action=action, http_status=status, transient=False)
        if status == 400 and "appid" in said.lower():
            return VendorAuthError(vendor, "400", f"{said}: App ID {app_id} is not known to anyRTC", action=action,
                                   http_status=status)
        if status >= 500:
            return VendorUnavailable(vendor, str(status), said or "server error", action=action, http_status=status)
        return VendorError(vendor, str(status), said or "unexpected answer", action=action, http_status=status)
    code = str(code)
    cls, transient, advice = CODES.get(code, (VendorUnavailable if status >= 500 else VendorError, status >= 500, ""))
    message = f"{advice} ({said})" if advice and said else advice or said or "error"
    return cls(vendor, code, message, action=action, http_status=status, transient=transient)
