"""`StreamRule`: desired state of a ZEGO stream ban, and its validation with exact positions."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.errors import ManifestErrors
from reconciler.model import load_manifests

ZEGO = """\
apiVersion: reconciler/v1
kind: Provider
metadata: {name: zego-prod}
spec:
  vendor: zego
  appId: "1234567890"
  credentials: {serverSecret: {env: ZEGO_SERVER_SECRET}}
"""
ZEGO_TEST = ZEGO.replace("zego-prod", "zego-test").replace('appId: "1234567890"', 'appId: "1234567890"\n  test: true')
ALIYUN = """\
apiVersion: reconciler/v1
kind: Provider
metadata: {name: ali-prod}
spec:
  vendor: aliyun
  appId: app-1
  credentials: {accessKeyId: {env: ALIYUN_A}, accessKeySecret: {env: ALIYUN_B}}
"""


def rule(name: str, stream: str, allowed: str = "false", provider: str = "zego-prod") -> str:
    return f"""\
apiVersion: reconciler/v1
kind: StreamRule
metadata: {{name: {name}}}
spec:
  provider: {provider}
  streamId: {stream}
  allowed: {allowed}
"""


def write(tmp_path: Path, *docs: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text("---\n".join(textwrap.dedent(d) for d in docs))
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ManifestErrors) as caught:
        load_manifests([path])
    return [str(e) for e in caught.value.errors]


def test_allowed_false_is_a_ban_in_force_and_allowed_true_is_no_ban(tmp_path: Path) -> None:
    manifests = load_manifests([write(tmp_path, ZEGO, rule("ban-cam", "cam"), rule("allow-stage", "stage", "true"))])
    desired = {d.name: d for d in manifests.desired()}
    ban, allow = desired["ban-cam"], desired["allow-stage"]
    assert (ban.address, ban.kind, ban.provider, ban.vendor, ban.lifecycle, dict(ban.spec), ban.deletion_policy) == (
        "StreamRule/ban-cam", "StreamRule", "zego-prod", "zego", "active", {"streamId": "cam"}, "Delete")
    assert (allow.lifecycle, dict(allow.spec)) == ("inactive", {"streamId": "stage"})


def test_allowed_is_required_and_unknown_fields_get_a_hint(tmp_path: Path) -> None:
    doc = rule("r", "cam").replace("  allowed: false\n", "  allow: false\n")
    assert errors_of(write(tmp_path, ZEGO, doc)) == [
        f"{tmp_path}/m.yaml:15:3: StreamRule/r: spec.allow: unknown field 'allow'; did you mean 'allowed'?",
    ]
    missing = rule("r", "cam").replace("  allowed: false\n", "")
    assert errors_of(write(tmp_path, ZEGO, missing)) == [
        f"{tmp_path}/m.yaml:12:1: StreamRule/r: spec: missing required field 'allowed'",
    ]


def test_stream_id_charset_provider_reference_and_vendor(tmp_path: Path) -> None:
    path = write(tmp_path, ZEGO, ALIYUN, rule("a", '"bad id"'), rule("b", "cam", provider="ali-prod"),
                 rule("c", "cam", provider="zego-prd"))
    assert errors_of(path)[-1] == (
        f"{tmp_path}/m.yaml:37:13: StreamRule/c: spec.provider: no Provider named 'zego-prd'; did you mean 'zego-prod'?")
    path = write(tmp_path, ZEGO, ALIYUN, rule("a", '"bad id"'), rule("b", "cam", provider="ali-prod"))
    assert errors_of(path) == [
        (f"{tmp_path}/m.yaml:22:13: StreamRule/a: spec.streamId: ZEGO stream ids allow only A-Z a-z 0-9 _ - (no "
        "spaces, dots or URL characters)"),
        (f"{tmp_path}/m.yaml:29:13: StreamRule/b: spec.provider: StreamRule bans are a ZEGO feature "
        "(ForbidRTCStream); Provider/ali-prod is for vendor aliyun; name a zego Provider"),
    ]


def test_one_rule_per_stream_and_the_test_prefix_counts_towards_the_length(tmp_path: Path) -> None:
    long_id = "s" * 240  # 240 + len("zegotest-1234567890-") = 260 > 256
    path = write(tmp_path, ZEGO, ZEGO_TEST, rule("first", "cam"), rule("second", "cam", "true"),
                 rule("other-env", "cam", provider="zego-test"), rule("long", long_id, provider="zego-test"),
                 rule("long-prod", long_id))
    assert errors_of(path) == [
        (f"{tmp_path}/m.yaml:31:13: StreamRule/second: spec.streamId: stream 'cam' already has a rule: "
        f"StreamRule/first ({tmp_path}/m.yaml:18); keep one rule per stream"),
        (f"{tmp_path}/m.yaml:47:13: StreamRule/long: spec.streamId: ZEGO stream ids are at most 256 characters; this "
        "one is 260 with the test prefix 'zegotest-1234567890-'"),
    ]
