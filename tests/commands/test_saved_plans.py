"""Saved plans end to end against the Aliyun emulator: `plan --out`, `apply plan.json`, `show plan.json`.

Each test asserts what the emulator recorded it received, so "applies exactly those changes" and
"refuses a stale plan" are checked at the vendor, not only in our own output.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from conftest import REPO, control

from reconciler.emulator.cluster import EmulatorCluster
from tests.cli.helpers import aliyun_actions as actions
from tests.cli.helpers import run

SCHEMA = json.loads((REPO / "manifests" / "schema" / "plan.schema.json").read_text(encoding="utf-8"))
TOWNHALL, STANDUP = "MixTask/townhall-live", "MixTask/standup-grid"


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    target = tmp_path / "manifests"
    shutil.copytree(REPO / "examples" / "aliyun", target)
    return target


def tasks(cluster: EmulatorCluster) -> dict[str, Any]:
    return control(cluster, "aliyun", "state")["tasks"]


def task_id(capsys: pytest.CaptureFixture[str], address: str) -> str:
    code, out, _ = run(capsys, "state", "show", address)
    assert code == 0
    return str(json.loads(out)["handles"]["TaskId"])


def switch_layout(manifests: Path) -> None:
    """townhall-live moves from speaker-plus-3 to grid-2x2: an in-place update-layout at Aliyun."""
    path = manifests / "tasks.yaml"
    path.write_text(path.read_text().replace("layout: speaker-plus-3", "layout: grid-2x2"), encoding="utf-8")


def test_saved_plan_applies_exactly_its_changes_and_only_to_the_manifests_it_was_made_from(
        vendors: EmulatorCluster, manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", str(manifests), "--out", "plan.json", "--detailed-exitcode")
    assert code == 2
    assert "Plan: 4 to start, 0 to update, 0 to stop, 0 to resume, 0 unchanged" in out  # 2 tasks, 2 layouts
    assert tasks(vendors) == {}
    original = (manifests / "tasks.yaml").read_text()
    (manifests / "tasks.yaml").unlink()  # the checkout no longer holds what the plan was made from

    code, out, err = run(capsys, "apply", "plan.json")
    assert code == 1 and out == ""
    assert err == (f"error: the plan was made from other manifests than the ones here:\n"
                   f"  {manifests / 'tasks.yaml'}: in the plan's manifests but gone now\n"
                   "applying it would undo what these manifests say; plan from this checkout "
                   "(`reconciler plan PATHS --out FILE`), review that plan and apply it\n")
    (manifests / "tasks.yaml").write_text(original + "\n# a comment is a change too\n")
    code, _, err = run(capsys, "apply", "plan.json")
    assert code == 1 and f"{manifests / 'tasks.yaml'}: changed since the plan was made" in err
    (manifests / "more.yaml").write_text("apiVersion: reconciler/v1\n")
    (manifests / "tasks.yaml").write_text(original)
    code, _, err = run(capsys, "apply", "plan.json")
    assert code == 1 and f"{manifests / 'more.yaml'}: not in the plan's manifests (added since)" in err
    (manifests / "notes.yaml").write_text("just: notes\n")  # not a manifest: not part of the set
    (manifests / "more.yaml").unlink()
    assert actions(vendors) == {"GetMPUTaskStatus": 2}  # the plan asked whether the tasks ran; nothing written

    code, out, err = run(capsys, "apply", "plan.json")
    assert (code, err) == (0, "")
    assert "Apply: 4 succeeded, 0 failed" in out
    assert actions(vendors).get("StartMPUTask") == 2
    started = tasks(vendors)
    assert sorted(t["channel"] for t in started.values()) == ["standup", "townhall"]
    assert all(t["status"] == 1 for t in started.values())
    code, out, _ = run(capsys, "plan", str(manifests), "--detailed-exitcode")
    assert code == 0
    assert "0 to start, 0 to update, 0 to stop, 0 to resume, 4 unchanged" in out


def test_plan_refused_when_the_state_serial_moved(
        vendors: EmulatorCluster, manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "plan", str(manifests), "--out", "plan.json")[0] == 0
    assert run(capsys, "apply", str(manifests), "--auto-approve")[0] == 0
    serial = json.loads(Path("plan.json").read_text())["state_serial"]
    before = actions(vendors)

    code, out, err = run(capsys, "apply", "plan.json")
    assert code == 1
    assert out == ""  # nothing is shown as if it were about to happen
    assert err.startswith(f"error: the plan is stale: it was made against state serial {serial}, the state is now at ")
    assert err.rstrip().endswith("(another apply ran since); run `reconciler plan --out` again")
    assert actions(vendors) == before  # not a single vendor call


def test_plan_refused_when_the_live_job_changed_since(
        vendors: EmulatorCluster, manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "apply", str(manifests), "--auto-approve")[0] == 0
    switch_layout(manifests)
    code, out, _ = run(capsys, "plan", str(manifests), "--out", "plan.json", "--detailed-exitcode")
    assert code == 2 and "~ MixTask/townhall-live  update-layout" in out
    control(vendors, "aliyun", "drift", {"taskId": task_id(capsys, TOWNHALL), "status": 4})

    code, out, err = run(capsys, "apply", "plan.json")
    assert code == 1
    assert err == (
        "error: the plan is stale: the live state changed since it was made:\n"
        "  MixTask/townhall-live: the vendor reported active at plan time, now inactive "
        "(status 4: the channel ended)\n"
        "run `reconciler plan --out` again and review the new plan\n"
    )
    assert "UpdateMPULayout" not in actions(vendors)

    code, out, _ = run(capsys, "plan", str(manifests), "--detailed-exitcode")
    assert code == 2 and "+ MixTask/townhall-live  start (drift)" in out  # the fresh plan says what to do now


def test_show_renders_a_stale_plan_in_every_format_without_state_or_network(
        vendors: EmulatorCluster, manifests: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(capsys, "apply", str(manifests), "--auto-approve")[0] == 0
    switch_layout(manifests)
    assert run(capsys, "plan", str(manifests), "--out", "plan.json")[0] == 0
    assert run(capsys, "apply", str(manifests), "--auto-approve")[0] == 0  # the saved plan is now stale
    plan_file = (tmp_path / "plan.json").resolve()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("RECONCILER_ENDPOINTS_FILE", str(tmp_path / "missing.json"))
    before = httpx.get(f"{vendors.endpoints['aliyun']}/_emulator/requests", timeout=5).json()["total"]

    code, out, err = run(capsys, "show", str(plan_file))
    assert (code, err) == (0, "")
    assert out.startswith("Saved plan made ")
    assert "~ MixTask/townhall-live  update-layout" in out
    assert "Plan: 0 to start, 1 to update, 0 to stop, 0 to resume, 2 unchanged, 1 orphaned" in out
    code, out, _ = run(capsys, "show", str(plan_file), "--format", "json")
    shown = json.loads(out)
    jsonschema.validate(shown, SCHEMA)
    assert shown == json.loads(plan_file.read_text())  # the file round-trips unchanged
    code, out, _ = run(capsys, "show", str(plan_file), "--format", "markdown")
    assert code == 0 and out.count("```text\nbefore: ") == 1 and "data:" not in out  # drawn before and after

    assert httpx.get(f"{vendors.endpoints['aliyun']}/_emulator/requests", timeout=5).json()["total"] == before
    assert list(elsewhere.iterdir()) == []  # no state store was created or opened here


def test_saved_plan_json_validates_against_the_shipped_schema(
        vendors: EmulatorCluster, manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    assert run(capsys, "plan", str(manifests), "--out", "first.json")[0] == 0
    assert run(capsys, "apply", str(manifests), "--auto-approve")[0] == 0
    switch_layout(manifests)
    (manifests / "extra.yaml").write_text("")  # an empty file is fine, and changes the fingerprint
    assert run(capsys, "plan", str(manifests), "--out", "update.json")[0] == 0
    _code, out, _ = run(capsys, "plan", str(manifests), "--format", "json")
    documents = [json.loads(Path(n).read_text()) for n in ("first.json", "update.json")] + [json.loads(out)]
    for document in documents:
        errors = [e.message for e in validator.iter_errors(document)]
        assert errors == []
    first, update, printed = documents
    assert first["format_version"] == 4 and first["observed"] == {}
    assert first["manifests"]["roots"] == [str(manifests)] and first["manifests"]["digest"] == first["manifest_fingerprint"]
    assert update["observed"][TOWNHALL]["status"] == "active"
    assert update["providers"]["ali-demo"]["credentials"] == {
        "accessKeyId": {"env": "ALIYUN_ACCESS_KEY_ID"}, "accessKeySecret": {"env": "ALIYUN_ACCESS_KEY_SECRET"}}
    assert printed["changes"] == update["changes"]  # --format json is the saved plan's schema
    broken = {**update, "changes": [{**update["changes"][0], "action": "explode"}]}
    assert not validator.is_valid(broken)


def test_a_plan_printed_without_observations_is_shown_but_not_applied(
        vendors: EmulatorCluster, manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "plan", str(manifests), "--out", "plan.json")[0] == 0
    data = json.loads(Path("plan.json").read_text())
    for key in ("observed", "providers", "secret_files", "manifests"):
        del data[key]
    Path("bare.json").write_text(json.dumps(data))
    assert run(capsys, "show", "bare.json")[0] == 0
    code, _, err = run(capsys, "apply", "bare.json")
    assert code == 1
    assert err == ("error: this plan file cannot be applied: it lacks the observations, Provider settings or manifest "
                   "digests apply checks (format_version 4); write it with `reconciler plan PATHS --out FILE`\n")
    Path("junk.json").write_text("{not json")
    code, _, err = run(capsys, "show", "junk.json")
    assert code == 1 and err.startswith("error: junk.json is not a reconciler plan file (not JSON: ")
    assert actions(vendors) == {"GetMPUTaskStatus": 2}  # the plan asked whether the tasks ran; nothing written


def test_exit_codes_for_usage_and_validation_errors(
        vendors: EmulatorCluster, manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "plan", str(manifests), "--out", "plan.json")[0] == 0
    code, _, err = run(capsys, "apply", "plan.json", "--prune")
    assert code == 1
    assert "--prune, --allow-empty and --target shape a plan when it is made" in err
    code, _, err = run(capsys, "plan", str(manifests), "--no-such-flag")
    assert code == 1 and "Error: No such option '--no-such-flag'" in err
    code, _, err = run(capsys, "plan", str(manifests), "--out-dir", "md")
    assert code == 1 and "--out-dir is for --format markdown" in err
    (manifests / "tasks.yaml").write_text((manifests / "tasks.yaml").read_text().replace("state: running", "state: sprinting", 1))
    before = actions(vendors)
    assert set(before) == {"GetMPUTaskStatus"}  # the plans above only read
    code, out, err = run(capsys, "plan", str(manifests), "--detailed-exitcode")
    assert code == 1 and out == ""
    assert "nothing was sent to any vendor" in err
    assert actions(vendors) == before
