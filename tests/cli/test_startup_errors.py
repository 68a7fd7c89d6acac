"""Startup mistakes an operator makes end in one clear line and exit 1, never a traceback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import copy_example, reconciler


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port some other program is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_emulator_port_in_use(busy_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    result = reconciler(capsys, "emulator", "--port", f"zego={busy_port}")
    assert result.code == 1
    assert one_error_line(result.err) == (f"error: cannot listen on 127.0.0.1:{busy_port} for the zego emulator: "
                                          "Address already in use; choose another --port")


def test_emulator_host_that_is_not_this_machine(capsys: pytest.CaptureFixture[str]) -> None:
    result = reconciler(capsys, "emulator", "--host", "192.0.2.1")  # TEST-NET-1: never a local address
    assert result.code == 1
    line = one_error_line(result.err)
    assert line.startswith("error: cannot listen on 192.0.2.1:0 for the aliyun emulator: ")
    assert line.endswith("; --host must be an address of this machine")


def test_accounts_file_with_a_missing_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text("tencent:\n  - {sdkAppId: 1400000009, admin: administrator}\n")
    result = reconciler(capsys, "emulator", "--accounts", str(accounts))
    assert result.code == 1
    assert one_error_line(result.err) == (f"error: cannot load accounts: {accounts}: tencent account 1 lacks key; "
                                          "each tencent account needs sdkAppId, key, admin")


def test_accounts_file_that_is_not_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text("aliyun:\n  - {appId: a, accessKeyId: b\n")
    result = reconciler(capsys, "emulator", "--accounts", str(accounts))
    assert result.code == 1
    assert one_error_line(result.err) == (f"error: cannot load accounts: {accounts}:3:1: not valid YAML: "
                                          "expected ',' or '}', but got '<stream end>'")


def test_watch_metrics_port_in_use(busy_port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = copy_example("aliyun", tmp_path)
    result = reconciler(capsys, "watch", str(example), "--metrics-port", str(busy_port), "--max-runs", "1",
                        "--state", f"sqlite:///{tmp_path}/state.db")
    assert result.code == 1
    assert one_error_line(result.err) == (f"error: cannot serve metrics on 127.0.0.1:{busy_port}: "
                                          "Address already in use; choose another --metrics-port")
