"""Signature v1 must match Alibaba Cloud byte for byte: the published vectors and the official SDK."""

from __future__ import annotations

import urllib.parse
from urllib.parse import parse_qsl, urlsplit

import hypothesis
import pytest
from aliyunsdkcore.auth.composer import rpc_signature_composer

from reconciler.vendors.aliyun.signing import canonical_query, percent_encode, signature, string_to_sign


def test_darabonba_vector_query_and_body_signed_together() -> None:
    params = {"query": "test", "body": "test"}
    assert string_to_sign("GET", params) == "GET&%2F&body%3Dtest%26query%3Dtest"
    assert signature("GET", params, "secret") == "XlUyV4sXjOuX5FnjUz9IF9tm5rU="


def test_signature_documentation_vector() -> None:
    params = {
        "AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML", "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureVersion": "1.0",
        "TimeStamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26",
    }
    assert signature("GET", params, "testsecret") == "CT9X0VtwR86fNWSnsc6v8YGOjuE="


def test_signature_parameter_itself_is_never_signed() -> None:
    params = {"query": "test", "body": "test"}
    assert signature("GET", {**params, "Signature": "anything"}, "secret") == "XlUyV4sXjOuX5FnjUz9IF9tm5rU="


def test_method_is_part_of_the_signature() -> None:
    params = {"query": "test", "body": "test"}
    assert string_to_sign("post", params).startswith("POST&%2F&")
    assert signature("POST", params, "secret") != signature("GET", params, "secret")


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("a b", "a%20b"),
        ("a*b", "a%2Ab"),
        ("a~b", "a~b"),
        ("A-Z_a.z0", "A-Z_a.z0"),
        ("a+b", "a%2Bb"),
        ("a/b", "a%2Fb"),
        ("k=v&x", "k%3Dv%26x"),
        ("rtmp://push.example.com/live/a?auth_key=1-0-0-abc", "rtmp%3A%2F%2Fpush.example.com%2Flive%2Fa%3Fauth_key%3D1-0-0-abc"),
        ("直播", "%E7%9B%B4%E6%92%AD"),
        ("é", "%C3%A9"),
        (20, "20"),
    ],
)
def test_percent_encoding(raw: object, encoded: str) -> None:
    assert percent_encode(raw) == encoded


def test_canonical_query_sorts_by_name_and_encodes_names_and_values() -> None:
    params = {"b": "2 3", "UserPanes.1.UserId": "*", "a": "~", "Signature": "x"}
    assert canonical_query(params) == "UserPanes.1.UserId=%2A&a=~&b=2%203"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_string_to_sign_agrees_with_the_official_python_sdk(method: str) -> None:
    params = {"Action": "StartMPUTask", "Version": "2018-01-11", "AppId": "app 1", "StreamURL": "rtmp://h/live/a*b~c",
              "UserPanes.1.UserId": "用户", "RegionId": "cn-hangzhou"}
    body = {"ChannelId": "room+1"}
    url, sdk_string = rpc_signature_composer.get_signed_url(dict(params), "ak", "sk", "JSON", method, body)
    signed = dict(params)
    # the SDK adds Timestamp, nonce etc. to its own copy; read them back from the URL it produced
    sent = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    signed.update({k: v for k, v in sent.items() if k != "Signature"})
    assert string_to_sign(method, {**signed, **body}) == sdk_string
    assert signature(method, {**signed, **body}, "sk") == sent["Signature"]


@hypothesis.given(hypothesis.strategies.text())
def test_the_unreserved_fast_path_encodes_exactly_as_rfc_3986_quoting(text: str) -> None:
    assert percent_encode(text) == urllib.parse.quote(text, safe="~")
