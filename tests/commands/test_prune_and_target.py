"""Prune policy and targeting end to end: CLI against the Aliyun emulator, checked at the vendor."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO, control

from reconciler.emulator.cluster import EmulatorCluster
from tests.cli.helpers import aliyun_actions as actions
from tests.cli.helpers import run

TOWNHALL, STANDUP = "MixTask/townhall-live", "MixTask/standup-grid"


def statuses(cluster: EmulatorCluster) -> dict[str, int]:
    return {t["channel"]: t["status"] for t in control(cluster, "aliyun", "state")["tasks"].values()}


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    target = tmp_path / "manifests"
    shutil.copytree(REPO / "examples" / "aliyun", target)
    tasks = target / "tasks.yaml"  # townhall-live is kept running at the vendor when it leaves the manifests
    tasks.write_text(tasks.read_text().replace("  state: running\n---", "  state: running\n  deletionPolicy: Retain\n---", 1))
    return target


def test_prune_guard_then_allow_empty_stops_and_retain_forgets(
        vendors: EmulatorCluster, manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "apply", str(manifests), "--auto-approve")[0] == 0
    (manifests / "tasks.yaml").unlink()  # every MixTask of Provider/ali-demo is gone at once

    code, out, _ = run(capsys, "plan", str(manifests), "--detailed-exitcode")
    assert code == 0  # orphans are listed, never acted on without --prune
    assert "4 orphaned (apply --prune to remove)" in out  # the tasks and their two custom layouts
    code, out, _ = run(capsys, "apply", str(manifests), "--prune", "--auto-approve")
    assert code == 0
    assert ("note: prune guard: the manifests hold no managed resources, so none of the 4 resource(s) in state "
            "(Layout/grid-2x2@ali-demo, Layout/speaker-plus-3@ali-demo, MixTask/standup-grid, MixTask/townhall-live) "
            "will be stopped or forgotten.") in out
    assert "StopMPUTask" not in actions(vendors)
    assert statuses(vendors) == {"standup": 1, "townhall": 1}

    code, out, _ = run(capsys, "plan", str(manifests), "--prune", "--allow-empty", "--format", "json")
    jsonschema.validate(json.loads(out), json.loads((REPO / "manifests/schema/plan.schema.json").read_text()))
    changes = {c["address"]: c["action"] for c in json.loads(out)["changes"]}
    # townhall-live keeps running (Retain) with its layout, so no layout of the provider is deleted under it
    assert changes == {STANDUP: "stop", TOWNHALL: "forget", "Layout/grid-2x2@ali-demo": "forget",
                       "Layout/speaker-plus-3@ali-demo": "forget"}
    code, out, _ = run(capsys, "apply", str(manifests), "--prune", "--allow-empty", "--auto-approve")
    assert code == 0 and "Apply: 4 succeeded, 0 failed" in out
    assert actions(vendors)["StopMPUTask"] == 1 and "DeleteMPULayout" not in actions(vendors)
    assert statuses(vendors) == {"standup": 3, "townhall": 1}  # Retain: still running, no longer managed
    assert run(capsys, "state", "list")[1].endswith("0 resource(s)\n")


def test_removing_one_task_prunes_without_allow_empty(
        vendors: EmulatorCluster, manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "apply", str(manifests), "--auto-approve")[0] == 0
    tasks = manifests / "tasks.yaml"
    tasks.write_text(tasks.read_text().split("---")[0])  # keep townhall-live only
    code, out, _ = run(capsys, "apply", str(manifests), "--prune", "--auto-approve")
    assert code == 0 and "prune guard" not in out
    assert statuses(vendors) == {"standup": 3, "townhall": 1}


def test_targets_apply_a_subset_and_unknown_targets_fail_before_any_vendor_call(
        vendors: EmulatorCluster, manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "plan", str(manifests), "--target", "MixTask/standup-gird")
    assert (code, out) == (1, "")
    assert err == ("error: --target 'MixTask/standup-gird' is not a resource of the manifests or the state; "
                   "did you mean 'MixTask/standup-grid'?\n")
    assert run(capsys, "apply", str(manifests), "--auto-approve", "--target", "Layout/grid-2x2")[0] == 1
    assert actions(vendors) == {}

    code, out, _ = run(capsys, "apply", str(manifests), "--auto-approve", "--target", STANDUP)
    assert code == 0 and "Apply: 2 succeeded, 0 failed" in out  # with the custom layout it needs
    assert statuses(vendors) == {"standup": 1}
    code, out, _ = run(capsys, "plan", str(manifests), "--detailed-exitcode")
    assert code == 2
    assert "+ MixTask/townhall-live  start" in out
    assert "2 to start, 0 to update, 0 to stop, 0 to resume, 2 unchanged" in out
    code, out, _ = run(capsys, "plan", str(manifests), "--detailed-exitcode", "--target", STANDUP,
                       "--target", STANDUP)
    assert code == 0 and "0 to start, 0 to update, 0 to stop, 0 to resume, 2 unchanged" in out
