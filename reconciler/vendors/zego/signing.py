"""ZEGO server API signature v2.0: pure functions shared by the provider and the emulator.

`Signature = md5_hex(str(AppId) + SignatureNonce + ServerSecret + str(Timestamp))`, sent with the
public query parameters AppId, SignatureNonce (16 hex characters), Timestamp (Unix seconds; the
server accepts +/- 10 minutes), SignatureVersion=2.0 and IsTest.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_VERSION = "2.0"
TIMESTAMP_WINDOW = 600  # seconds either side of the server's clock


def signature(app_id: int | str, nonce: str, secret: str, timestamp: int) -> str:
    text = f"{app_id}{nonce}{secret}{timestamp}"
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def new_nonce() -> str:
    """16 hex characters from 8 random bytes, as ZEGO's own samples make it."""
    return secrets.token_hex(8)


def public_params(app_id: int | str, secret: str, *, timestamp: int, nonce: str | None = None,
                  is_test: bool = False) -> dict[str, str]:
    """The signed public query parameters of one request."""
    nonce = nonce or new_nonce()
    return {
        "AppId": str(app_id),
        "SignatureNonce": nonce,
        "Timestamp": str(timestamp),
        "Signature": signature(app_id, nonce, secret, timestamp),
        "SignatureVersion": SIGNATURE_VERSION,
        "IsTest": "true" if is_test else "false",
    }


def signature_matches(app_id: int | str, nonce: str, secret: str, timestamp: int, given: str) -> bool:
    return hmac.compare_digest(signature(app_id, nonce, secret, timestamp), given.lower())
