"""Canary secrets through every command and output format: a vendor error echoes each secret in the
forms a server or a library might (other case, base64, hex, URL-encoded, inside a Basic header), and
none of them may appear in stdout, stderr, the plan file, the state database or the watch log."""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from reconciler.emulator.cluster import EmulatorCluster
from tests.cli.helpers import run
from tests.conftest import REPO, control


def echoed_forms(value: str) -> list[str]:
    """What a careless server may echo, computed here independently of the redactor."""
    raw = value.encode()
    forms = [value, value.lower(), value.upper(), raw.hex(), raw.hex().upper(), quote(value, safe=""),
             quote_plus(value)]
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        text = encode(raw).decode()
        forms += [text, text.rstrip("=")]
    return forms


def leaks(text: str, forms: list[str]) -> list[str]:
    return [form for form in forms if form in text]


def vendor_error_echoing(secrets: list[str], extra: str = "") -> str:
    parts = [f"{i}:{form}" for value in secrets for i, form in enumerate(echoed_forms(value))]
    return "signature mismatch, server saw " + " ".join(parts) + extra


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    shutil.copytree(REPO / "examples" / "aliyun", target / "aliyun")
    shutil.copytree(REPO / "examples" / "anyrtc", target / "anyrtc")
    for name in ("recording-aliyun-vod.yaml", "recording-individual-snapshots.yaml"):
        (target / "anyrtc" / name).unlink()
    # one credential from a file, to cover both kinds of reference
    (target / "aliyun" / "secret").write_text(os.environ.pop("ALIYUN_ACCESS_KEY_SECRET"))
    provider = target / "aliyun" / "provider.yaml"
    provider.write_text(provider.read_text().replace("{env: ALIYUN_ACCESS_KEY_SECRET}", "{file: secret}"))
    return target


def test_no_derived_form_of_a_secret_reaches_any_output(
        vendors: EmulatorCluster, repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    aliyun_secret = (repo / "aliyun" / "secret").read_text()
    anyrtc_id, anyrtc_secret = os.environ["ANYRTC_CUSTOMER_ID"], os.environ["ANYRTC_CUSTOMER_SECRET"]
    storage_secret = os.environ["ANYRTC_STORAGE_SECRET_KEY"]
    secrets = [aliyun_secret, anyrtc_secret, storage_secret]
    basic = base64.b64encode(f"{anyrtc_id}:{anyrtc_secret}".encode()).decode()
    forms = [f for value in secrets for f in echoed_forms(value)] + [basic]
    message = vendor_error_echoing(secrets, f" Authorization: Basic {basic}")
    control(vendors, "aliyun", "faults", {"action": "StartMPUTask", "type": "error", "code": "InvalidParam",
                                          "status": 400, "message": message, "count": 1})
    control(vendors, "anyrtc", "faults", {"action": "start", "type": "error", "code": "2", "status": 400,
                                          "message": message, "count": 1})
    state = f"sqlite:///{tmp_path}/state.db"
    outputs: list[str] = []

    def capture(*args: str) -> int:
        code, out, err = run(capsys, *args)
        outputs.extend([out, err])
        return code

    assert capture("validate", str(repo)) == 0
    assert capture("apply", str(repo), "--state", state, "--auto-approve") == 1  # both starts fail, echoing
    assert any("signature mismatch" in text for text in outputs)  # the vendor's words do reach the user
    control(vendors, "aliyun", "faults", {"action": "GetMPUTaskStatus", "type": "error", "code": "InvalidParam",
                                          "status": 400, "message": message})
    control(vendors, "anyrtc", "faults", {"action": "*", "type": "error", "code": "2", "status": 400,
                                          "message": message})
    for fmt in ("text", "json", "markdown"):
        capture("plan", str(repo), "--state", state, "--format", fmt, "--out", str(tmp_path / "plan.json"))
        capture("show", str(tmp_path / "plan.json"), "--format", fmt)
    capture("apply", str(tmp_path / "plan.json"), "--state", state)
    capture("apply", str(repo), "--state", state, "--auto-approve")
    capture("state", "list", "--state", state)
    capture("watch", str(repo), "--state", state, "--max-runs", "1", "--interval", "1s")
    files = [tmp_path / "plan.json", tmp_path / "state.db"]
    assert any("signature mismatch" in text for text in outputs)
    for text in outputs + [f.read_bytes().decode("utf-8", "replace") for f in files if f.exists()]:
        assert leaks(text, forms) == []
