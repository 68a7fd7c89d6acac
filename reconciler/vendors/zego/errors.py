"""ZEGO return codes -> our error tree, with `transient` from ZEGO's own handling advice.

Sources: the ResumeRTCStream document (3000-40005), ZEGO's global return codes (1000000xx gateway
codes) and the stream mixing pages (1102000xx, 110209001). 30006 for an out-of-order Sequence is an
assumption (no document names a code for it).
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

_INTERNAL = CodeInfo(VendorUnavailable, True, "ZEGO internal error; retried, contact ZEGO support if it persists")
_SECRET = ("check that the Provider's serverSecret credential is the ServerSecret of this AppId "
           "(ZEGO console, project information)")

CODES: dict[int, CodeInfo] = {
    1: CodeInfo(VendorUnavailable, True, "ZEGO is busy; retried"),
    3000: CodeInfo(VendorAuthError, False, "ZEGO does not accept this app; check Provider.appId or contact ZEGO support"),
    3001: _INTERNAL,
    5006: _INTERNAL,
    30003: _INTERNAL,
    3002: CodeInfo(VendorError, True, "ZEGO rejected the Timestamp; a fresh one is sent on retry, and if it persists "
                                      "synchronise this machine's clock"),
    3003: CodeInfo(VendorAuthError, False, "the app has no token configured at ZEGO; ask ZEGO support to set it up"),
    30002: CodeInfo(VendorRateLimited, True, "over ZEGO's call rate for this AppId; backing off"),
    30004: CodeInfo(VendorError, False, "IsTest does not match the app's environment: set `test: true` on the Provider "
                                        "only for a test-environment app"),
    30005: CodeInfo(VendorAuthError, False, "ZEGO does not know this AppId; check Provider.appId"),
    30006: CodeInfo(VendorConflict, False, "ZEGO saw a higher Sequence for this stream in the last 10 s, so another "
                                           "client manages it too; let every run that manages it share one state store"),
    30009: CodeInfo(VendorError, False, "ZEGO refused the stream id: use A-Z a-z 0-9 _ - only (in the test environment "
                                        "ids carry the zegotest-<AppId>- prefix, which the provider adds)"),
    40005: CodeInfo(VendorAuthError, False, "ZEGO rejected the signature; " + _SECRET),
    100000001: CodeInfo(VendorError, False, "the AppId is not a uint32; check Provider.appId"),
    100000004: CodeInfo(VendorAuthError, False, "the signature expired: this machine's clock is more than 10 minutes "
                                                "off; synchronise it (NTP)"),
    100000005: CodeInfo(VendorAuthError, False, "ZEGO rejected the signature; " + _SECRET),
    100000007: CodeInfo(VendorError, False, "ZEGO does not offer this Action on this endpoint; check Provider.endpoint"),
    100000010: CodeInfo(VendorAuthError, False, "ZEGO has no ServerSecret for this AppId; check Provider.appId"),
    100000011: CodeInfo(VendorAuthError, False, "ZEGO has no configuration for this AppId; check Provider.appId"),
    100000015: CodeInfo(VendorUnavailable, True, "ZEGO gateway error; retried"),
    100000016: CodeInfo(VendorError, False, "the app has no production environment: set `test: true` on the Provider "
                                            "or enable production in the ZEGO console"),
    100000017: CodeInfo(VendorAuthError, False, "the app has not enabled this ZEGO service; enable it in the console "
                                                "(stream mixing needs activation by ZEGO)"),
    110200001: CodeInfo(VendorUnavailable, True, "the mix service failed (usually a network error); retried"),
    110200002: CodeInfo(VendorError, False, "ZEGO refused the mix parameters; see the message"),
    110200003: CodeInfo(VendorAuthError, False, "the mix task belongs to another UserId; another tool manages this "
                                                "TaskId, choose another spec.taskId"),
    110200004: CodeInfo(VendorError, False, "ZEGO could not parse the mix request"),
    110200005: CodeInfo(VendorUnavailable, True, "ZEGO could not lock the task to start it; retried"),
    110200006: CodeInfo(VendorUnavailable, True, "ZEGO could not lock the task to stop it; retried"),
    110200194: CodeInfo(VendorRateLimited, True, "over ZEGO's mix request rate; backing off"),
    110209001: CodeInfo(VendorNotFound, False, "the mix task does not exist at ZEGO (it was stopped, or ended by itself "
                                               "90 s after all its inputs left)"),
}


def error_for(code: int, message: str, *, action: str, request_id: str = "", http_status: int | None = None
              ) -> VendorError:
    info = CODES.get(code)
    if info is None:
        gateway = 100000000 <= code < 100000100
        info = CodeInfo(VendorError, False, "see ZEGO's return codes" + (" (gateway)" if gateway else ""))
    return info.make("zego", str(code), message, action=action, request_id=request_id, http_status=http_status)
