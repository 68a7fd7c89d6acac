"""`reconciler emulator` as a user runs it: a separate process, an accounts file, SIGTERM to stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.helpers import copy_example, reconciler
from tests.conftest import REPO

ACCOUNTS = """\
aliyun:
  - {appId: demo-aliyun-app, accessKeyId: LTAI5tTeamKey000000001, accessKeySecret: team-secret-0123456789abcdef}
"""


def test_emulator_process_serves_every_vendor_with_the_given_accounts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(ACCOUNTS)
    endpoints = tmp_path / "endpoints.json"
    child = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "--accounts", str(accounts), "--endpoints-file", str(endpoints)],
        env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not endpoints.exists():
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            assert time.monotonic() < deadline, "the endpoints file never appeared"
            time.sleep(0.05)
        urls = json.loads(endpoints.read_text())
        assert set(urls) == {"aliyun", "anyrtc", "tencent", "zego"}
        for vendor, url in urls.items():
            assert url.startswith("http://127.0.0.1:")
            state = httpx.get(f"{url}/_emulator/state", timeout=5).json()
            assert state["vendor"] == vendor
            assert not any(state["tasks"].values()) if isinstance(state["tasks"], dict) else not state["tasks"]

        example = copy_example("aliyun", tmp_path)
        monkeypatch.setenv("ALIYUN_ACCESS_KEY_ID", "LTAI5tTeamKey000000001")
        monkeypatch.setenv("ALIYUN_ACCESS_KEY_SECRET", "team-secret-0123456789abcdef")
        ok = reconciler(capsys, "plan", str(example), "--endpoints-file", str(endpoints), "--detailed-exitcode")
        assert ok.code == 2, ok.err  # the accounts file's key signs correctly: changes to make
        monkeypatch.setenv("ALIYUN_ACCESS_KEY_SECRET", "wrong-secret-0000000000000000")
        apply = reconciler(capsys, "apply", str(example), "--auto-approve", "--endpoints-file", str(endpoints))
        assert apply.code == 1
        assert "IllegalSignature" in apply.out + apply.err
        assert "wrong-secret" not in apply.out + apply.err
    finally:
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=20)
    assert child.returncode == 0
    assert "aliyun: http://127.0.0.1:" in out
    assert "demo account" in out  # vendors missing from the accounts file use (and print) demo accounts
    assert "team-secret" not in out
    assert out.rstrip().endswith("emulators stopped")


def test_file_secret_is_read_relative_to_its_manifest(vendors, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    example = copy_example("aliyun", tmp_path)
    (example / "secret.txt").write_text(os.environ["ALIYUN_ACCESS_KEY_SECRET"] + "\n")
    monkeypatch.delenv("ALIYUN_ACCESS_KEY_SECRET")
    provider = example / "provider.yaml"
    provider.write_text(provider.read_text().replace("{env: ALIYUN_ACCESS_KEY_SECRET}", "{file: secret.txt}"))
    monkeypatch.chdir(REPO / "tests")  # not the manifests' directory
    result = reconciler(capsys, "apply", str(example), "--auto-approve", "--state", f"sqlite:///{tmp_path}/s.db")
    assert result.code == 0, result.err
    assert "Apply: 4 succeeded, 0 failed" in result.out
