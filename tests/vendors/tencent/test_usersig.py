"""TLSSigAPIv2 UserSigs: ours and Tencent's package must understand each other, field by field."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import zlib

import pytest
import TLSSigAPIv2

from reconciler.vendors.tencent.usersig import UserSig, UserSigError, decode, generate, verify

SDKAPPID = 1400000000
KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"  # the package's own example key
NOW = 1_700_000_000


def package_decode(sig: str) -> dict[str, object]:
    raw = TLSSigAPIv2.base64_decode_url(sig.encode())
    return dict(json.loads(zlib.decompress(raw)))


def test_our_usersig_matches_the_documented_fields_and_hmac() -> None:
    sig = generate(SDKAPPID, KEY, "administrator", now=NOW, expire=3600)
    assert not set("+/=") & set(sig)  # the URL-safe alphabet: * - _
    fields = package_decode(sig)
    content = f"TLS.identifier:administrator\nTLS.sdkappid:{SDKAPPID}\nTLS.time:{NOW}\nTLS.expire:3600\n"
    expected_sig = base64.b64encode(hmac.new(KEY.encode(), content.encode(), hashlib.sha256).digest()).decode()
    assert fields == {"TLS.ver": "2.0", "TLS.identifier": "administrator", "TLS.sdkappid": SDKAPPID,
                      "TLS.expire": 3600, "TLS.time": NOW, "TLS.sig": expected_sig}


def test_our_signature_equals_what_the_package_computes_for_the_same_fields() -> None:
    api = TLSSigAPIv2.TLSSigAPIv2(SDKAPPID, KEY)
    theirs = api._TLSSigAPIv2__hmacsha256("administrator", NOW, 3600).decode()  # the package's own HMAC
    assert package_decode(generate(SDKAPPID, KEY, "administrator", now=NOW, expire=3600))["TLS.sig"] == theirs


@pytest.mark.parametrize("userbuf", [None, b"abc"])
def test_usersig_from_the_package_verifies_with_ours(userbuf: bytes | None) -> None:
    api = TLSSigAPIv2.TLSSigAPIv2(SDKAPPID, KEY)
    sig = api.gen_sig("admin", 600) if userbuf is None else api.gen_sig_with_userbuf("admin", 600, userbuf)
    now = int(time.time())
    info = verify(sig, SDKAPPID, KEY, now=now)
    made = int(package_decode(sig)["TLS.time"])  # type: ignore[call-overload]
    assert info == UserSig("admin", SDKAPPID, made, 600, None if userbuf is None else "YWJj")
    assert decode(sig) == package_decode(sig)


def test_forged_expired_foreign_and_garbled_usersigs_are_refused() -> None:
    sig = generate(SDKAPPID, KEY, "administrator", now=NOW, expire=3600)
    assert verify(sig, SDKAPPID, KEY, now=NOW + 3600).expires_at == NOW + 3600
    cases = [
        (lambda: verify(sig, SDKAPPID, "0" * 64, now=NOW), "signature",
         "the UserSig signature does not match the application's key"),
        (lambda: verify(sig, SDKAPPID, KEY, now=NOW + 3601), "expired", "the UserSig expired 1 s ago"),
        (lambda: verify(sig, 1400000001, KEY, now=NOW), "mismatch",
         "the UserSig was made for SDKAppID 1400000000, not 1400000001"),
        (lambda: verify("abc*-_", SDKAPPID, KEY, now=NOW), "malformed",
         "the UserSig is not a TLSSigAPIv2 signature (cannot be decoded)"),
    ]
    for check, reason, message in cases:
        with pytest.raises(UserSigError) as caught:
            check()
        assert (caught.value.reason, str(caught.value)) == (reason, message)


def test_a_tampered_identifier_breaks_the_signature() -> None:
    fields = package_decode(generate(SDKAPPID, KEY, "alice", now=NOW, expire=3600))
    fields["TLS.identifier"] = "administrator"
    forged = TLSSigAPIv2.base64_encode_url(zlib.compress(json.dumps(fields).encode()))
    with pytest.raises(UserSigError) as caught:
        verify(forged, SDKAPPID, KEY, now=NOW)
    assert caught.value.reason == "signature"
