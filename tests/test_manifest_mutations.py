"""Property: whatever a pull request does to valid manifests, `validate` and `plan` either accept them
or exit 1 with every problem at a `file:line:col`, never a traceback, never a vendor call before
validation passed.

Mutations are drawn from line edits (replace a value, drop, duplicate, re-indent, insert) with values
an attacker would try. Examples are bounded and derandomized so the suite is fast and repeatable.
"""

from __future__ import annotations

import contextlib
import io
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli import main
from tests.conftest import REPO

SOURCES = {
    "aliyun.yaml": "\n---\n".join((REPO / "examples" / "aliyun" / n).read_text() for n in
                                  ("provider.yaml", "layouts.yaml", "tasks.yaml")),
    "anyrtc.yaml": "\n---\n".join((REPO / "examples" / "anyrtc" / n).read_text() for n in
                                  ("provider.yaml", "layout.yaml", "recording-mix-s3.yaml")),
}
ATTACKS = [
    "{file: /etc/passwd}", "{file: ../../outside}", "{env: GITHUB_TOKEN}", "http://127.0.0.1:1",
    "https://evil.aliyuncs.com", "https://rtc-api.zego.im@127.0.0.1/", "!!python/object/apply:os.system [id]",
    "!custom x", "*undefined", "&a [*a, *a]", "[[[[[[[[", "]]", "\u202eevil", "\x1b[2J", "'", '"', "- ", "? x",
    "<<: *x", "&x {x: 0}", "{", "}", "~", "null", "[]", "{}", "0x1F", "1e999", "-1", "2147483648", "yes", ":", "#", "|",
    ">-", "%YAML 1.1", "---", "...", "\t", "a" * 300,
]
values = st.one_of(st.sampled_from(ATTACKS), st.text(max_size=12))


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, str]:
    files = {name: text.splitlines() for name, text in SOURCES.items()}
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(sorted(files)))
        lines = files[name]
        index = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(["value", "drop", "duplicate", "indent", "insert"]))
        line = lines[index]
        if edit == "value":
            key, sep, _ = line.partition(": ")
            lines[index] = f"{key}{sep or ': '}{draw(values)}"
        elif edit == "drop":
            del lines[index]
        elif edit == "duplicate":
            lines.insert(index, line)
        elif edit == "indent":
            lines[index] = " " * draw(st.integers(0, 6)) + line.lstrip()
        else:
            lines.insert(index, " " * draw(st.integers(0, 4)) + draw(values))
    return {name: "\n".join(lines) + "\n" for name, lines in files.items()}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Every outgoing connection attempt is recorded and refused."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise ConnectionRefusedError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield attempts


def cli(*args: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, err.getvalue()


@settings(max_examples=50, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(files=mutated())
def test_mutated_manifests_are_accepted_or_refused_with_positions(
        files: dict[str, str], tmp_path: Path, no_network: list[object], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET", "ANYRTC_CUSTOMER_ID", "ANYRTC_CUSTOMER_SECRET"):
        monkeypatch.setenv(name, "value")
    root = tmp_path / "repo"
    root.mkdir(exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    located = re.compile(rf"^{re.escape(str(root))}/[a-z]+\.yaml:\d+:\d+: ")
    code, err = cli("validate", str(root))
    assert "Traceback" not in err and no_network == []
    assert code in (0, 1)
    if code == 1:
        *problems, summary = err.splitlines()
        assert re.fullmatch(r"error: \d+ problem\(s\) in the manifests; nothing was sent to any vendor", summary)
        assert problems and all(located.match(p) or p.startswith((" ", "\t")) for p in problems), err
        assert "\u202e" not in err and "\x1b" not in err
        # plan validates first: the same refusal, and not one connection attempt
        plan_code, plan_err = cli("plan", str(root), "--state", f"sqlite:///{tmp_path}/state.db")
        assert plan_code == 1 and plan_err == err and no_network == []
