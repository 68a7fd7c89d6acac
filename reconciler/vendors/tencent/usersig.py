"""Tencent UserSig (TLSSigAPIv2): pure generation and verification.

content = "TLS.identifier:{id}\\nTLS.sdkappid:{appid}\\nTLS.time:{t}\\nTLS.expire:{exp}\\n"
(+ "TLS.userbuf:{b64}\\n" when a userbuf is present); TLS.sig = base64(HMAC-SHA256(key, content)).
The JSON document {TLS.ver "2.0", TLS.identifier, TLS.sdkappid, TLS.expire, TLS.time, TLS.sig} is
zlib-compressed, base64-encoded, and `+ / =` become `* - _` so it fits in a URL query.

Verification compares decoded fields, never raw strings: two correct implementations may compress
differently. The clock is a parameter so callers (and the emulator) decide what "now" is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import zlib
from dataclasses import dataclass
from typing import Any

VERSION = "2.0"
_TO_URL = str.maketrans({"+": "*", "/": "-", "=": "_"})
_FROM_URL = str.maketrans({"*": "+", "-": "/", "_": "="})


class UserSigError(ValueError):
    """A UserSig that cannot be trusted; `reason` is one of malformed, signature, expired, mismatch."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class UserSig:
    identifier: str
    sdkappid: int
    time: int
    expire: int
    userbuf: str | None = None

    @property
    def expires_at(self) -> int:
        return self.time + self.expire


def _content(identifier: str, sdkappid: int, time: int, expire: int, userbuf: str | None) -> str:
    text = (f"TLS.identifier:{identifier}\nTLS.sdkappid:{sdkappid}\n"
            f"TLS.time:{time}\nTLS.expire:{expire}\n")
    if userbuf is not None:
        text += f"TLS.userbuf:{userbuf}\n"
    return text


def _sig(key: str, content: str) -> str:
    return base64.b64encode(hmac.new(key.encode("utf-8"), content.encode("utf-8"), hashlib.sha256).digest()).decode()


def generate(sdkappid: int, key: str, identifier: str, *, now: int, expire: int = 86400) -> str:
    """A UserSig for `identifier`, valid for `expire` seconds from `now`."""
    document = {
        "TLS.ver": VERSION,
        "TLS.identifier": identifier,
        "TLS.sdkappid": int(sdkappid),
        "TLS.expire": int(expire),
        "TLS.time": int(now),
        "TLS.sig": _sig(key, _content(identifier, int(sdkappid), int(now), int(expire), None)),
    }
    compressed = zlib.compress(json.dumps(document, separators=(",", ":")).encode("utf-8"))
    return base64.b64encode(compressed).decode().translate(_TO_URL)


def decode(usersig: str) -> dict[str, Any]:
    """The JSON document inside a UserSig, unverified."""
    try:
        raw = zlib.decompress(base64.b64decode(usersig.translate(_FROM_URL), validate=True))
        document = json.loads(raw.decode("utf-8"))
    except (binascii.Error, zlib.error, UnicodeDecodeError, ValueError) as exc:
        raise UserSigError("malformed", "the UserSig is not a TLSSigAPIv2 signature (cannot be decoded)") from exc
    if not isinstance(document, dict):
        raise UserSigError("malformed", "the UserSig does not hold a JSON object")
    return document


def verify(usersig: str, sdkappid: int, key: str, *, now: int) -> UserSig:
    """Check signature, application and expiry; return the signed fields."""
    document = decode(usersig)
    try:
        info = UserSig(
            identifier=str(document["TLS.identifier"]),
            sdkappid=int(document["TLS.sdkappid"]),
            time=int(document["TLS.time"]),
            expire=int(document["TLS.expire"]),
            userbuf=document.get("TLS.userbuf"),
        )
        given = str(document["TLS.sig"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UserSigError("malformed", f"the UserSig lacks a field: {exc}") from exc
    if str(document.get("TLS.ver")) != VERSION:
        raise UserSigError("malformed", f"unsupported UserSig version {document.get('TLS.ver')!r}")
    if info.sdkappid != int(sdkappid):
        raise UserSigError("mismatch", f"the UserSig was made for SDKAppID {info.sdkappid}, not {sdkappid}")
    expected = _sig(key, _content(info.identifier, info.sdkappid, info.time, info.expire, info.userbuf))
    if not hmac.compare_digest(expected, given):
        raise UserSigError("signature", "the UserSig signature does not match the application's key")
    if now > info.expires_at:
        raise UserSigError("expired", f"the UserSig expired {now - info.expires_at} s ago")
    return info
