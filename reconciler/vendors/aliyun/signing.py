"""Alibaba Cloud RPC signature v1 (HMAC-SHA1), shared by the Aliyun provider and its emulator.

Both sides must agree byte for byte, so there is exactly one implementation:

    enc(s)         = percent-encode UTF-8, leaving only A-Z a-z 0-9 - _ . ~ (space -> %20, * -> %2A)
    canonical      = "&".join(enc(k) + "=" + enc(v) for every parameter but Signature, sorted by name)
    StringToSign   = METHOD + "&" + enc("/") + "&" + enc(canonical)
    Signature      = base64(HMAC-SHA1(key = secret + "&", StringToSign))

Query and form-body parameters are signed together. Names are sorted as given (the official SDKs
sort the raw names too). Pure functions only: no clock, no randomness, no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from urllib.parse import quote

SIGNATURE_METHOD = "HMAC-SHA1"
SIGNATURE_VERSION = "1.0"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # ISO 8601, UTC


UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")  # RFC 3986 unreserved: encoded as themselves


def percent_encode(value: object) -> str:
    """RFC 3986 encoding of the UTF-8 text of `value`, as Alibaba Cloud signs it."""
    text = str(value)
    return text if UNRESERVED.fullmatch(text) else quote(text, safe="~")


def canonical_query(params: Mapping[str, object]) -> str:
    """Every parameter except `Signature`, sorted by name, encoded and joined with `&`."""
    pairs = sorted((str(k), str(v)) for k, v in params.items() if k != "Signature")
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in pairs)


def string_to_sign(method: str, params: Mapping[str, object]) -> str:
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def signature(method: str, params: Mapping[str, object], secret: str) -> str:
    """The `Signature` parameter for a request sent with `method` carrying `params`."""
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def signatures_match(expected: str, given: str) -> bool:
    """Constant-time comparison, so a verifier does not leak how much of a guess was right."""
    return hmac.compare_digest(expected.encode(), given.encode())
