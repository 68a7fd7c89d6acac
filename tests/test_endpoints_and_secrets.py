"""Endpoint policy and secret handling: the two guards between pull requests and real credentials."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from reconciler.endpoints import check_endpoint, resolve_endpoint
from reconciler.errors import CredentialError, EndpointRefused
from reconciler.secret_files import MAX_SECRET_BYTES, SecretFile, SecretFileRefused, locate
from reconciler.secrets import Redactor, Secret, SecretAccess, resolve
from reconciler.vendors import descriptor, vendor_names


@pytest.mark.parametrize("vendor", vendor_names())
def test_every_documented_host_is_allowed(vendor: str) -> None:
    hosts = descriptor(vendor).official_hosts
    assert all(not h.startswith(".") and "*" not in h for h in hosts)  # exact hosts, never a suffix
    urls = [descriptor(vendor).default_endpoint, *descriptor(vendor).regional_endpoints.values()]
    assert {urlsplit(u).hostname for u in urls} <= set(hosts)  # every URL the tool itself uses is listed
    for host in hosts:
        assert check_endpoint(vendor, f"https://{host}/") == f"https://{host}"
        assert check_endpoint(vendor, f"https://{host.upper()}") == f"https://{host.upper()}"


def test_foreign_endpoint_refused_with_how_to_allow() -> None:
    with pytest.raises(EndpointRefused) as caught:
        check_endpoint("aliyun", "https://evil.example.com")
    assert str(caught.value) == (
        "aliyun endpoint 'https://evil.example.com' is not a documented aliyun API host; expected one of "
        "https://rtc.aliyuncs.com (loopback and other hosts are the operator's choice: --allow-endpoint URL, "
        "RECONCILER_ALLOW_ENDPOINTS or the endpoints file); manifests cannot choose where signed requests go")
    with pytest.raises(EndpointRefused, match="is not https"):
        check_endpoint("aliyun", "http://rtc.aliyuncs.com")  # official host, but not over https


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9000/"])
def test_loopback_only_through_the_operator(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(EndpointRefused):
        check_endpoint("aliyun", url)
    assert check_endpoint("aliyun", url, [url]) == url.rstrip("/")
    monkeypatch.setenv("RECONCILER_ALLOW_ENDPOINTS", f"https://other.example, {url}")
    assert check_endpoint("aliyun", url) == url.rstrip("/")


def test_operator_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    assert check_endpoint("zego", "https://proxy.corp.example", ["https://proxy.corp.example/"])
    monkeypatch.setenv("RECONCILER_ALLOW_ENDPOINTS", "https://a.example, https://b.example")
    assert check_endpoint("zego", "https://b.example") == "https://b.example"


def test_override_beats_manifest_beats_default() -> None:
    assert resolve_endpoint("aliyun", None, {}) == "https://rtc.aliyuncs.com"
    assert resolve_endpoint("anyrtc", None, {}) == "https://www.api.agrtc.cn"
    assert resolve_endpoint("aliyun", "http://127.0.0.1:1", {"aliyun": "http://127.0.0.1:2"}) == "http://127.0.0.1:2"
    # a URL of the operator's endpoints file counts as allowed for the manifest too
    assert resolve_endpoint("aliyun", "http://127.0.0.1:2", {"zego": "http://127.0.0.1:2"}) == "http://127.0.0.1:2"
    with pytest.raises(EndpointRefused):
        resolve_endpoint("aliyun", "http://127.0.0.1:1", {})


def test_secret_never_prints_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIYUN_MY_SECRET", "hunter2-very-secret")
    secret = resolve({"env": "ALIYUN_MY_SECRET"}, owner="Provider/p credential key")
    assert secret.reveal() == "hunter2-very-secret"
    for shown in (str(secret), repr(secret), f"{secret}", f"{secret!r:>40}", str([secret])):
        assert "hunter2" not in shown
    assert str(secret) == "Secret(env:ALIYUN_MY_SECRET)"


def test_missing_secret_names_the_variable_only() -> None:
    with pytest.raises(CredentialError) as caught:
        resolve({"env": "ZEGO_NOT_SET_ANYWHERE"}, owner="Provider/p credential key")
    assert str(caught.value) == ("Provider/p credential key: environment variable ZEGO_NOT_SET_ANYWHERE is not set; "
                                 "export it (or point the manifest at a file with `{file: PATH}`)")


def test_a_variable_outside_the_allowed_globs_is_never_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_not_for_vendors")
    with pytest.raises(CredentialError) as caught:
        resolve({"env": "GITHUB_TOKEN"}, owner="Provider/p credential key")
    assert "ghp_" not in str(caught.value)
    assert str(caught.value) == (
        "Provider/p credential key: environment variable GITHUB_TOKEN is not an allowed secret variable "
        "(ALIYUN_*, ANYRTC_*, TENCENT_*, ZEGO_*); allow it with --allow-secret-env GITHUB_TOKEN")
    assert resolve({"env": "GITHUB_TOKEN"}, owner="o", access=SecretAccess(env_globs=("GITHUB_*",))).reveal()


def test_file_secret_is_located_below_the_manifest_and_read_bounded(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "key.txt").write_text("s3cr3t-from-file\n")
    located = locate("keys/key.txt", tmp_path, (tmp_path.resolve(),))
    assert located == SecretFile(str(tmp_path.resolve()), "keys/key.txt")
    access = SecretAccess({"keys/key.txt": located})
    assert resolve({"file": "keys/key.txt"}, owner="o", access=access).reveal() == "s3cr3t-from-file"
    with pytest.raises(CredentialError, match="was not located when the manifests were validated"):
        resolve({"file": "other.txt"}, owner="o", access=access)
    (tmp_path / "keys" / "key.txt").write_text("x" * (MAX_SECRET_BYTES + 1))
    with pytest.raises(CredentialError, match=f"larger than {MAX_SECRET_BYTES} bytes"):
        resolve({"file": "keys/key.txt"}, owner="o", access=access)


@pytest.mark.parametrize(("written", "problem"), [
    ("/etc/hostname", "is an absolute path"),
    ("../outside/creds", "a path with `..`"),
    ("keys/../../outside", "a path with `..`"),
    ("~/.aws/credentials", "is an absolute path"),
    ("link/creds", "is a symbolic link (or lies below one) leading outside"),
    ("zero", "is a symbolic link (or lies below one) leading outside"),
    ("/dev/zero", "is an absolute path"),
    ("keys", "is not a regular file"),
])
def test_file_references_outside_the_rules_are_refused(tmp_path: Path, written: str, problem: str) -> None:
    root = tmp_path / "manifests"
    (root / "keys").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "creds").write_text("stolen")
    (root / "link").symlink_to(tmp_path / "outside")
    (root / "zero").symlink_to("/dev/zero")
    with pytest.raises(SecretFileRefused, match=problem.replace("(", r"\(").replace(")", r"\)")):
        locate(written, root, (root.resolve(),))


def test_dev_zero_is_refused_even_inside_an_allowed_directory(tmp_path: Path) -> None:
    (tmp_path / "zero").symlink_to("/dev/zero")
    with pytest.raises(SecretFileRefused, match="is not a regular file"):
        locate("zero", tmp_path, (tmp_path.resolve(), Path("/dev")))
    with pytest.raises(SecretFileRefused, match="is not a regular file"):
        from reconciler.secret_files import read

        read(SecretFile("/dev", "zero"))


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(SecretFileRefused, match="is not a regular file"):
        locate("pipe", tmp_path, (tmp_path.resolve(),))
    from reconciler.secret_files import read

    with pytest.raises(SecretFileRefused, match="is not a regular file"):
        read(SecretFile(str(tmp_path.resolve()), "pipe"))  # O_NONBLOCK: open returns, fstat refuses


def test_redactor_masks_registered_values() -> None:
    redactor = Redactor()
    redactor.add([Secret("abcdef123", "env:X")])
    assert redactor("failed with key abcdef123 in URL") == "failed with key *** in URL"
