"""`reconciler import`: adopting a job that already runs at Aliyun, against the emulator over sockets.

The "already running" job is started by a different state store (another team's, or a console
click): the emulator holds it, our state does not, until it is imported.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, control

from reconciler.commands.importing import adopted_last_applied
from reconciler.emulator.cluster import EmulatorCluster
from reconciler.model.desired import DesiredResource
from reconciler.records import Observation
from tests.cli.helpers import aliyun_actions as actions
from tests.cli.helpers import run

TOWNHALL = "MixTask/townhall-live"
OTHER_STATE = "sqlite:///other/state.db"


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    target = tmp_path / "manifests"
    shutil.copytree(REPO / "examples" / "aliyun", target)
    return target


@pytest.fixture
def running_task(vendors: EmulatorCluster, manifests: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """townhall-live started by someone else's state: its TaskId, as the Aliyun console would show it."""
    code, _, _ = run(capsys, "apply", str(manifests), "--auto-approve", "--state", OTHER_STATE,
                     "--target", TOWNHALL)
    assert code == 0
    code, out, _ = run(capsys, "state", "show", TOWNHALL, "--state", OTHER_STATE)
    return str(json.loads(out)["handles"]["TaskId"])


def test_import_then_the_layout_is_reapplied_once_and_the_next_plan_is_clean(
        vendors: EmulatorCluster, manifests: Path, running_task: str, capsys: pytest.CaptureFixture[str]) -> None:
    starts = actions(vendors)["StartMPUTask"]
    code, out, err = run(capsys, "import", TOWNHALL, running_task, str(manifests))
    assert (code, err) == (0, "")
    assert out == (f"imported {TOWNHALL}: TaskId={running_task}; aliyun reports it active\n"
                   "aliyun cannot report layout: the next apply sets it once from the manifest\n"
                   "run `reconciler plan` to see how the job differs from the manifest\n")
    code, out, _ = run(capsys, "state", "show", TOWNHALL)
    record = json.loads(out)
    assert record["handles"] == {"TaskId": running_task}
    assert record["lifecycle"] == "active" and record["intent"] is None
    assert sorted(record["last_applied"]) == ["channel", "output"]  # layout: unknown until applied

    code, out, _ = run(capsys, "plan", str(manifests), "--target", TOWNHALL, "--detailed-exitcode")
    assert code == 2
    assert "~ MixTask/townhall-live  update-layout" in out
    assert "+ Layout/speaker-plus-3@ali-demo  create-layout" in out  # a target brings its custom layout along
    assert "Plan: 1 to start, 1 to update, 0 to stop, 0 to resume, 0 unchanged" in out

    code, out, _ = run(capsys, "apply", str(manifests), "--target", TOWNHALL, "--auto-approve")
    assert code == 0
    assert actions(vendors)["StartMPUTask"] == starts  # adopted, never started a second time
    assert actions(vendors)["UpdateMPULayout"] == 1
    task = control(vendors, "aliyun", "state")["tasks"][running_task]
    assert task["status"] == 1 and task["history"] == ["StartMPUTask", "UpdateMPULayout"]

    code, out, _ = run(capsys, "plan", str(manifests), "--target", TOWNHALL, "--detailed-exitcode")
    assert code == 0
    assert "0 to start, 0 to update, 0 to stop, 0 to resume, 2 unchanged" in out


def test_import_refuses_a_task_the_vendor_does_not_know(
        vendors: EmulatorCluster, manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "import", TOWNHALL, "no-such-task", str(manifests))
    assert (code, out) == (1, "")
    assert err == ("error: MixTask/townhall-live: aliyun has no job 'no-such-task' (no task no-such-task at "
                   "Aliyun); nothing to import. Check the id, or let `reconciler apply` start the job\n")
    assert run(capsys, "state", "list")[1] == "serial 0, 0 resource(s)\n"
    assert actions(vendors) == {"GetMPUTaskStatus": 1}


def test_import_refuses_a_stopped_task(
        vendors: EmulatorCluster, manifests: Path, running_task: str, capsys: pytest.CaptureFixture[str]) -> None:
    control(vendors, "aliyun", "drift", {"taskId": running_task, "status": 3})
    code, _, err = run(capsys, "import", TOWNHALL, running_task, str(manifests))
    assert code == 1
    assert err == (f"error: MixTask/townhall-live: aliyun reports job '{running_task}' as stopped (status 3: "
                   "stopped by the user); a stopped job cannot be adopted. Let `reconciler apply` start a new one\n")
    assert run(capsys, "state", "list")[1] == "serial 0, 0 resource(s)\n"


def test_import_needs_the_resource_in_the_manifests_and_not_yet_managed(
        vendors: EmulatorCluster, manifests: Path, running_task: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "import", "MixTask/townhall-lve", running_task, str(manifests))
    assert code == 1
    assert err == ("error: MixTask/townhall-lve is not a managed resource of the manifests (did you mean "
                   "'MixTask/townhall-live'?); write its manifest first (import adopts a job for a resource the "
                   "manifests describe)\n")
    assert run(capsys, "import", TOWNHALL, running_task, str(manifests))[0] == 0
    code, _, err = run(capsys, "import", TOWNHALL, running_task, str(manifests))
    assert code == 1
    assert err == (f"error: {TOWNHALL} is already managed (active, TaskId={running_task}); "
                   f"`reconciler state show {TOWNHALL}` shows what state holds\n")


def test_adopted_last_applied_trusts_the_vendor_then_reapplies_what_it_cannot_report() -> None:
    spec: dict[str, Any] = {"channel": "c", "layout": {"name": "l"}, "output": {"streamUrl": "rtmp://h/a"}}
    desired = DesiredResource("MixTask/x", "MixTask", "x", "p", "zego", "active", spec)
    reported = Observation("active", fields={"output": {"streamUrl": "rtmp://h/other"}})
    last, unknown = adopted_last_applied(desired, reported)
    # zego updates layout and output in place: output is reported (kept as reported, so the plan shows
    # the difference), layout is not (unknown: re-applied once); channel cannot change (assumed)
    assert last == {"channel": "c", "output": {"streamUrl": "rtmp://h/other"}}
    assert unknown == ("layout",)


def test_a_job_the_vendor_cannot_observe_is_not_adopted() -> None:
    from reconciler.commands.importing import _refuse_unless_running
    from reconciler.errors import ReconcilerError

    with pytest.raises(ReconcilerError) as raised:
        _refuse_unless_running("MixTask/x", "tencent", "room1", Observation("unknown", "no describe call"))
    assert str(raised.value) == ("MixTask/x: tencent cannot tell whether job 'room1' runs (no describe call), so it "
                                 "cannot be adopted; let `reconciler apply` start and manage the job instead")
    _refuse_unless_running("MixTask/x", "aliyun", "t", Observation("paused"))  # paused jobs are adoptable
