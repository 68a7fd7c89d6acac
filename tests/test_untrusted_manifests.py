"""Manifests from an untrusted pull request, run with real credentials: each attack of the threat
model, refused at validation with its position, before any secret is read or any request is sent."""

from __future__ import annotations

import json
import os
import shutil
import socket
import textwrap
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.emulator.cluster import EmulatorCluster
from reconciler.model.yaml_limits import MAX_ALIAS_NODES, MAX_DEPTH, MAX_FILE_BYTES
from tests.cli.helpers import actions, reconciler, run
from tests.conftest import REPO, control

PROVIDER = """\
apiVersion: reconciler/v1
kind: Provider
metadata: {{name: p}}
spec:
  vendor: {vendor}
  appId: "1234"
  endpoint: {endpoint}
  credentials:
{credentials}
"""
CREDENTIALS = {
    "aliyun": ("accessKeyId", "accessKeySecret"),
    "anyrtc": ("customerId", "customerSecret"),
    "tencent": ("key",),
    "zego": ("serverSecret",),
}


def provider(vendor: str, endpoint: str, *refs: str) -> str:
    names = CREDENTIALS[vendor]
    refs = refs or tuple(f"{{env: {vendor.upper()}_{n.upper()}}}" for n in names)
    lines = "\n".join(f"    {name}: {ref}" for name, ref in zip(names, refs, strict=True))
    text = PROVIDER.format(vendor=vendor, endpoint=endpoint, credentials=lines)
    return text + "  admin: administrator\n" if vendor == "tencent" else text


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A real TCP listener on loopback; `received` says whether anything connected to it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    yield sock
    sock.close()


def connections(sock: socket.socket) -> int:
    """How many connections wait in the listener's backlog (the kernel completes them without accept)."""
    count = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


@pytest.mark.parametrize("vendor", ["aliyun", "anyrtc"])
def test_exfiltration_pair_is_refused_and_the_listener_receives_nothing(
        vendor: str, tmp_path: Path, listener: socket.socket, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "creds").write_text("stolen-key-id")
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(REPO / "examples" / "aliyun" / "layouts.yaml", repo / "layouts.yaml")
    port = listener.getsockname()[1]
    (repo / "provider.yaml").write_text(provider(vendor, f"http://127.0.0.1:{port}",
                                                 "{file: ../outside/creds}", "{file: /etc/hostname}"))
    code, out, err = run(capsys, "validate", str(repo))
    assert code == 1 and out == ""
    lines = err.splitlines()
    first, second = CREDENTIALS[vendor]
    assert lines[0].startswith(f"{repo}/provider.yaml:7:13: Provider/p: spec.endpoint: 'http://127.0.0.1:{port}' "
                               "is not https")
    assert lines[1].startswith(f"{repo}/provider.yaml:9:{len(first) + 14}: Provider/p: spec.credentials.{first}.file: "
                               "secret file '../outside/creds' is a path with `..`")
    assert lines[2].startswith(f"{repo}/provider.yaml:10:{len(second) + 14}: Provider/p: "
                               f"spec.credentials.{second}.file: secret file '/etc/hostname' is an absolute path")
    for command in (("plan", str(repo)), ("apply", str(repo), "--auto-approve")):
        code, out, err = run(capsys, *command)
        assert code == 1 and "nothing was sent to any vendor" in err
        assert "stolen" not in out + err
    assert connections(listener) == 0
    # the operator, not the manifest, can allow the loopback URL; the file outside stays refused
    monkeypatch.setenv("RECONCILER_ALLOW_ENDPOINTS", f"http://127.0.0.1:{port}")
    code, _, err = run(capsys, "plan", str(repo))
    assert code == 1 and "spec.endpoint" not in err and "outside/creds" in err
    assert connections(listener) == 0


@pytest.mark.parametrize(("vendor", "url"), [
    ("aliyun", "https://attacker-bucket.oss-cn-hangzhou.aliyuncs.com"),
    ("aliyun", "https://123.cn-hangzhou.fc.aliyuncs.com/2016-08-15/proxy/svc/fn/"),
    ("aliyun", "https://rtc.aliyuncs.com.attacker.example"),
    ("aliyun", "https://rtc.aliyuncs.com:8443"),
    ("aliyun", "https://rtc.aliyuncs.com/collect"),
    ("aliyun", "https://rtc.aliyuncs.com/?next=https://attacker.example"),
    ("aliyun", "https://user:pw@rtc.aliyuncs.com"),
    ("aliyun", "http://rtc.aliyuncs.com"),
    ("aliyun", "https://rtc.aliyuncs.com."),
    ("anyrtc", "https://attacker.anyrtc.io"),
    ("anyrtc", "https://attacker.agrtc.cn"),
    ("tencent", "https://attacker.tim.qq.com"),
    ("tencent", "https://attacker.im.qcloud.com"),
    ("zego", "https://rtc-api.zego.im@127.0.0.1/"),
    ("zego", "https://attacker.zego.im"),
    ("zego", "http://127.0.0.1:47001"),
    ("zego", "https://rtc.aliyuncs.com"),  # another vendor's host
])
def test_every_wildcard_or_disguised_host_fails_validate_at_the_endpoint(
        vendor: str, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "provider.yaml").write_text(provider(vendor, f"'{url}'"))
    code, _, err = run(capsys, "validate", str(tmp_path))
    assert code == 1
    assert err.startswith(f"{tmp_path}/provider.yaml:7:13: Provider/p: spec.endpoint: '{url}' ")
    assert "error: 1 problem(s) in the manifests" in err


@pytest.mark.parametrize(("vendor", "url"), [
    ("aliyun", "https://rtc.aliyuncs.com"), ("anyrtc", "https://www.api.agrtc.cn"),
    ("tencent", "https://adminapiusa.im.qcloud.com"), ("zego", "https://rtc-api-fra.zego.im/"),
])
def test_documented_hosts_pass_validate(vendor: str, url: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "provider.yaml").write_text(provider(vendor, url))
    assert run(capsys, "validate", str(tmp_path))[0] == 0


@pytest.mark.parametrize("name", ["GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "HOME"])
def test_env_names_outside_the_allowlist_fail_validate(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(name, "runner-secret-value")
    (tmp_path / "provider.yaml").write_text(provider("zego", "https://rtc-api.zego.im", f"{{env: {name}}}"))
    code, out, err = run(capsys, "validate", str(tmp_path))
    assert code == 1 and "runner-secret-value" not in out + err
    assert err.startswith(f"{tmp_path}/provider.yaml:9:25: Provider/p: spec.credentials.serverSecret.env: "
                          f"environment variable {name} is not an allowed secret variable (allowed: ALIYUN_*, "
                          f"ANYRTC_*, TENCENT_*, ZEGO_*); the operator can allow it with --allow-secret-env {name}")
    assert run(capsys, "validate", str(tmp_path), "--allow-secret-env", name[:3] + "*")[0] == 0
    monkeypatch.setenv("RECONCILER_ALLOW_SECRET_ENV", f"OTHER_*, {name}")
    assert run(capsys, "validate", str(tmp_path))[0] == 0


def test_the_default_env_allowlist_follows_the_vendor_list(monkeypatch: pytest.MonkeyPatch) -> None:
    import reconciler.vendors
    from reconciler.allowances import Allowances

    monkeypatch.setattr(reconciler.vendors, "VENDOR_PACKAGES", (*reconciler.vendors.VENDOR_PACKAGES, "newrtc"))
    allowances = Allowances.from_operator([])
    assert allowances.env_allowed("NEWRTC_API_KEY") and not allowances.env_allowed("GITHUB_TOKEN")


def test_file_secrets_resolve_beside_their_manifest_and_outside_roots_need_the_operator(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    (repo / "zego").mkdir(parents=True)
    (repo / "zego" / "secret.txt").write_text("s")
    (repo / "zego" / "provider.yaml").write_text(provider("zego", "https://rtc-api.zego.im", "{file: secret.txt}"))
    assert run(capsys, "validate", str(repo))[0] == 0
    monkeypatch.chdir(tmp_path)  # resolution does not depend on the working directory
    assert run(capsys, "validate", "repo/zego/provider.yaml")[0] == 0
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "zego").write_text("s")
    (repo / "zego" / "vault").symlink_to(vault)
    (repo / "zego" / "provider.yaml").write_text(provider("zego", "https://rtc-api.zego.im", "{file: vault/zego}"))
    code, _, err = run(capsys, "validate", str(repo))
    assert code == 1 and "is a symbolic link (or lies below one) leading outside" in err
    assert run(capsys, "validate", str(repo), "--allow-secret-dir", str(vault))[0] == 0
    monkeypatch.setenv("RECONCILER_ALLOW_SECRET_DIRS", os.pathsep.join(["/nonexistent", str(vault)]))
    assert run(capsys, "validate", str(repo))[0] == 0


@pytest.mark.parametrize(("ref", "extra", "expected"), [
    ("{file: /dev/zero}", (), "is an absolute path"),
    ("{file: zero}", (), "is a symbolic link (or lies below one) leading outside"),
    ("{file: zero}", ("--allow-secret-dir", "/dev"), "is not a regular file"),
    ("{file: pipe}", (), "is not a regular file"),
    ("{file: .}", (), "is not a regular file"),
])
def test_dev_zero_fifos_and_directories_are_refused_before_reading(
        ref: str, extra: tuple[str, ...], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "zero").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "provider.yaml").write_text(provider("zego", "https://rtc-api.zego.im", ref))
    tracemalloc.start()
    code, _, err = run(capsys, "plan", str(tmp_path), *extra)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert code == 1 and "provider.yaml:9:26: Provider/p: spec.credentials.serverSecret.file: secret file" in err
    assert expected in err
    assert peak < 20 * 1024 * 1024


def _assert_refused(path: Path, err: str, position: str, message: str) -> None:
    assert "Traceback" not in err
    assert err.startswith(f"{path}:{position}: {message}"), err


def _limited_run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, int]:
    tracemalloc.start()
    code, _, err = run(capsys, *args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return code, err, peak


def test_an_alias_bomb_is_refused_at_the_alias_that_crosses_the_limit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    code, err, peak = _limited_run(capsys, "validate", str(path))
    assert code == 1
    # a0..a3 expand to 10, 91, 820 and 7381 nodes: the first alias of a4 (line 5) crosses 10,000
    _assert_refused(path, err, "5:10", "aliases expand")
    assert f"aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb?)" in err
    assert peak < 20 * 1024 * 1024


def test_a_50_mb_manifest_is_refused_by_the_size_cap_without_reading_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("w") as handle:
        handle.write("apiVersion: reconciler/v1\nkind: Layout\nmetadata: {name: big}\nspec:\n  panes:\n")
        handle.write("    - {x: 0, y: 0, width: 1, height: 1}\n" * (50 * 1024 * 1024 // 38))
    code, err, peak = _limited_run(capsys, "validate", str(path))
    assert code == 1
    _assert_refused(path, err, "1:1", f"file is larger than {MAX_FILE_BYTES} bytes")
    assert peak < 4 * MAX_FILE_BYTES


@pytest.mark.parametrize("style", ["flow", "block"])
def test_nesting_600_deep_is_refused_without_recursion_error(
        style: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "deep.yaml"
    if style == "flow":
        path.write_text("spec: " + "[" * 600 + "]" * 600 + "\n")
        position = f"1:{6 + MAX_DEPTH}"
    else:
        path.write_text("".join(f"{'  ' * i}k{i}:\n" for i in range(600)) + "  " * 600 + "leaf: 1\n")
        position = f"{MAX_DEPTH + 1}:{2 * MAX_DEPTH + 1}"  # the first mapping deeper than the limit
    code, err, _ = _limited_run(capsys, "validate", str(path))
    assert code == 1 and "RecursionError" not in err
    _assert_refused(path, err, position, f"nested deeper than {MAX_DEPTH} levels")


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system", "!!python/name:os.system", "!custom",
                                 "!!binary", "tag:yaml.org,2002:python/object/new:os.system"])
def test_python_and_unknown_tags_are_refused(tag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tags.yaml"
    marker = tmp_path / "pwned"
    tag_text = tag if tag.startswith("!") else f"!<{tag}>"
    path.write_text(textwrap.dedent(f"""\
        apiVersion: reconciler/v1
        kind: Layout
        metadata: {{name: l}}
        spec: {tag_text} ["touch {marker}"]
    """))
    code, _, err = run(capsys, "validate", str(path))
    assert code == 1 and not marker.exists()
    _assert_refused(path, err, "4:7", "YAML tag ")
    assert "is not allowed; manifests hold plain mappings, lists, strings, numbers and booleans only" in err


@pytest.mark.parametrize("text", ["ali\u202eprod", "ali\u2066prod\u2069", "a\x1b[2Jb", "zero\u200bwidth"])
def test_bidi_and_control_characters_are_printed_escaped(text: str, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "names.yaml"
    doc = provider("zego", "https://rtc-api.zego.im").replace("{name: p}", json.dumps({"name": text}))
    path.write_text(doc.replace('"1234"', json.dumps(text)).replace("kind: Provider", f"kind: {json.dumps(text)}"))
    code, out, err = run(capsys, "validate", str(path))
    assert code == 1
    raw = [c for c in text if not c.isalnum() and c not in "[-"]
    for char in raw:
        assert char not in out + err
    escaped = "".join(c if c.isalnum() or c in "[-" else f"\\u{ord(c):04x}" for c in text)
    assert f": {escaped}/{escaped}: " in err  # the Kind/name prefix


def test_bidi_values_are_escaped_in_text_markdown_and_json_plans() -> None:
    import io

    from reconciler.plan.serialize import plan_to_dict
    from reconciler.plan.types import Action, Change, FieldChange, Plan
    from reconciler.render.markdown import render_markdown
    from reconciler.render.text import render_plan

    evil = "room\u202e\x1b[31m1"
    change = Change(address="MixTask/m", kind="MixTask", name="m", provider="p", vendor="zego", action=Action.UPDATE,
                    before={"channel": "a"}, after={"channel": evil}, fields=(FieldChange("channel", "a", evil),),
                    reasons=(f"channel changed to {evil}",))
    plan = Plan(changes=(change,), state_serial=1, manifest_fingerprint="f", created_at="now", warnings=(evil,))
    stream = io.StringIO()
    render_plan(plan, stream)
    outputs = [stream.getvalue(), *render_markdown(plan), json.dumps(plan_to_dict(plan))]
    for output in outputs:
        assert "\u202e" not in output and "\x1b" not in output
    assert "room\\u202e\\u001b[31m1" in outputs[0] and "room\\u202e\\u001b[31m1" in outputs[1]


def test_a_saved_plan_resolves_the_same_files_from_another_directory(
        vendors: EmulatorCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "examples" / "aliyun", repo)
    (repo / "keys").mkdir()
    (repo / "keys" / "id").write_text(os.environ.pop("ALIYUN_ACCESS_KEY_ID") + "\n")
    (repo / "keys" / "secret").write_text(os.environ.pop("ALIYUN_ACCESS_KEY_SECRET"))
    path = repo / "provider.yaml"
    path.write_text(path.read_text().replace("{env: ALIYUN_ACCESS_KEY_ID}", "{file: keys/id}")
                    .replace("{env: ALIYUN_ACCESS_KEY_SECRET}", "{file: keys/secret}"))
    state = f"sqlite:///{tmp_path}/state.db"
    assert run(capsys, "plan", str(repo), "--state", state, "--out", str(tmp_path / "plan.json"))[0] == 0
    saved = json.loads((tmp_path / "plan.json").read_text())
    assert saved["secret_files"] == {"ali-demo": {
        "keys/id": {"root": str(repo.resolve()), "path": "keys/id"},
        "keys/secret": {"root": str(repo.resolve()), "path": "keys/secret"}}}
    assert "demoSecret" not in json.dumps(saved) and "base_dir" not in saved
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, err = run(capsys, "apply", str(tmp_path / "plan.json"), "--state", state)
    assert code == 0, err
    starts = actions(vendors, "aliyun")["StartMPUTask"]
    assert starts == 2
    recorded = control(vendors, "aliyun", "requests")
    assert "LTAI5tDemoAccessKey00001" in json.dumps(recorded)  # the file's key id reached the vendor


def test_a_tampered_saved_plan_cannot_read_outside_its_root(
        vendors: EmulatorCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "examples" / "aliyun", repo)
    (repo / "id").write_text("x")
    path = repo / "provider.yaml"
    path.write_text(path.read_text().replace("{env: ALIYUN_ACCESS_KEY_ID}", "{file: id}"))
    state = f"sqlite:///{tmp_path}/state.db"
    assert run(capsys, "plan", str(repo), "--state", state, "--out", "plan.json")[0] == 0
    saved = json.loads(Path("plan.json").read_text())
    saved["secret_files"]["ali-demo"]["id"]["path"] = "../../../../etc/hostname"
    Path("plan.json").write_text(json.dumps(saved))
    code, out, err = run(capsys, "apply", "plan.json", "--state", state)
    assert code == 1 and "is not below" in out + err
    assert actions(vendors, "aliyun").get("StartMPUTask", 0) == 0


def test_refused_validation_makes_no_vendor_call(vendors: EmulatorCluster, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "examples" / "aliyun", repo)
    path = repo / "provider.yaml"
    path.write_text(path.read_text().replace("{env: ALIYUN_ACCESS_KEY_ID}", "{env: GITHUB_TOKEN}"))
    result = reconciler(capsys, "apply", str(repo), "--auto-approve")
    assert result.code == 1
    assert actions(vendors, "aliyun") == {}


def test_a_manifest_symlink_leading_outside_the_paths_is_not_read(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "outside.yaml").write_text("apiVersion: reconciler/leaked-value-from-outside\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "provider.yaml").write_text(provider("zego", "https://rtc-api.zego.im"))
    (repo / "evil.yaml").symlink_to(tmp_path / "outside.yaml")
    code, out, err = run(capsys, "validate", str(repo))
    assert code == 1 and "leaked-value" not in out + err
    assert err.startswith(f"{repo}/evil.yaml:1:1: a symbolic link leading outside the manifest paths")
    assert run(capsys, "validate", str(repo / "provider.yaml"))[0] == 0


def test_too_many_documents_are_refused_and_ordinary_anchors_still_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from reconciler.model.yaml_limits import MAX_DOCUMENTS

    many = tmp_path / "many" / "docs.yaml"
    many.parent.mkdir()
    many.write_text("---\n{}\n" * (MAX_DOCUMENTS + 1))
    code, _, err = run(capsys, "validate", str(many))
    assert code == 1
    _assert_refused(many, err, f"{2 * MAX_DOCUMENTS + 1}:1", f"more than {MAX_DOCUMENTS} YAML documents in one file")
    anchors = tmp_path / "anchors" / "layouts.yaml"
    anchors.parent.mkdir()
    anchors.write_text(textwrap.dedent("""\
        apiVersion: reconciler/v1
        kind: Layout
        metadata: {name: halves}
        spec:
          canvas: {width: 1280, height: 720}
          panes:
            - &left {x: 0, y: 0, width: 0.5, height: 1}
            - <<: *left
              x: 0.5
    """))
    assert run(capsys, "validate", str(anchors))[0] == 0


def test_every_limit_is_documented_with_its_number() -> None:
    from reconciler.model.yaml_limits import MAX_DOCUMENTS
    from reconciler.secret_files import MAX_SECRET_BYTES

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for number in (MAX_FILE_BYTES, MAX_DOCUMENTS, MAX_ALIAS_NODES, MAX_SECRET_BYTES):
        assert f"{number:,}" in readme
    assert f"| nesting depth of mappings and lists | {MAX_DEPTH} |" in readme
    for variable in ("RECONCILER_ALLOW_SECRET_DIRS", "RECONCILER_ALLOW_SECRET_ENV", "RECONCILER_ALLOW_ENDPOINTS"):
        assert variable in readme


def test_ci_docs_give_plan_a_read_only_ram_policy_in_ram_syntax() -> None:
    import re

    text = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    policy = json.loads(re.search(r"```json\n(\{\n  \"Version\".*?)```", text, re.S).group(1))  # type: ignore[union-attr]
    assert policy["Version"] == "1"
    [statement] = policy["Statement"]
    assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
    assert statement["Action"] == ["rtc:GetMPUTaskStatus", "rtc:DescribeMPULayoutInfoList"]  # reads only
