"""Endpoint policy and secret handling: the two guards between pull requests and real credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.endpoints import check_endpoint, resolve_endpoint
from reconciler.errors import CredentialError, EndpointRefused
from reconciler.secrets import Redactor, Secret, resolve


@pytest.mark.parametrize("url", ["https://rtc.aliyuncs.com", "http://127.0.0.1:8080", "http://localhost:1",
                                 "http://[::1]:9000/"])
def test_official_and_loopback_endpoints_are_allowed(url: str) -> None:
    assert check_endpoint("aliyun", url) == url.rstrip("/")


def test_foreign_endpoint_refused_with_how_to_allow() -> None:
    with pytest.raises(EndpointRefused) as caught:
        check_endpoint("aliyun", "https://evil.example.com")
    assert str(caught.value) == (
        "aliyun endpoint 'https://evil.example.com' is neither an official aliyun host nor loopback; manifests "
        "cannot choose where signed requests go. If you trust it, allow it outside the manifests with "
        "--allow-endpoint https://evil.example.com or RECONCILER_ALLOW_ENDPOINTS=https://evil.example.com")
    with pytest.raises(EndpointRefused):
        check_endpoint("aliyun", "http://rtc.aliyuncs.com")  # official host, but not over https


def test_operator_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    assert check_endpoint("zego", "https://proxy.corp.example", ["https://proxy.corp.example/"])
    monkeypatch.setenv("RECONCILER_ALLOW_ENDPOINTS", "https://a.example, https://b.example")
    assert check_endpoint("zego", "https://b.example") == "https://b.example"


def test_override_beats_manifest_beats_default() -> None:
    assert resolve_endpoint("aliyun", None, {}) == "https://rtc.aliyuncs.com"
    assert resolve_endpoint("aliyun", "http://127.0.0.1:1", {}) == "http://127.0.0.1:1"
    assert resolve_endpoint("aliyun", "http://127.0.0.1:1", {"aliyun": "http://127.0.0.1:2"}) == "http://127.0.0.1:2"


def test_secret_never_prints_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SECRET", "hunter2-very-secret")
    secret = resolve({"env": "MY_SECRET"}, owner="Provider/p credential key")
    assert secret.reveal() == "hunter2-very-secret"
    for shown in (str(secret), repr(secret), f"{secret}", f"{secret!r:>40}", str([secret])):
        assert "hunter2" not in shown
    assert str(secret) == "Secret(env:MY_SECRET)"


def test_missing_secret_names_the_variable_only() -> None:
    with pytest.raises(CredentialError) as caught:
        resolve({"env": "NOT_SET_ANYWHERE"}, owner="Provider/p credential key")
    assert str(caught.value) == ("Provider/p credential key: environment variable NOT_SET_ANYWHERE is not set; "
                                 "export it (or point the manifest at a file with `{file: PATH}`)")


def test_file_secret_relative_to_manifests(tmp_path: Path) -> None:
    (tmp_path / "key.txt").write_text("s3cr3t-from-file\n")
    assert resolve({"file": "key.txt"}, owner="o", base_dir=tmp_path).reveal() == "s3cr3t-from-file"
    with pytest.raises(CredentialError, match="cannot read secret file"):
        resolve({"file": "missing.txt"}, owner="o", base_dir=tmp_path)


def test_redactor_masks_registered_values() -> None:
    redactor = Redactor()
    redactor.add([Secret("abcdef123", "env:X")])
    assert redactor("failed with key abcdef123 in URL") == "failed with key *** in URL"
