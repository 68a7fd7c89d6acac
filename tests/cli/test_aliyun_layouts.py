"""Aliyun layouts end to end: the real CLI, SQLite state and the Aliyun emulator over loopback. What the
mix looks like is read back from the emulator (`mix`: each LayoutId's panes with the users placed)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator.cluster import EmulatorCluster
from reconciler.state import open_state
from tests.cli.helpers import actions, copy_example, kill_apply_during, reconciler, tasks
from tests.conftest import control

LAYOUT_WRITES = ("CreateMPULayout", "ModifyMPULayout", "DeleteMPULayout")
SPEAKER = "Layout/speaker-plus-3@ali-demo"
PIP = """apiVersion: reconciler/v1
kind: Layout
metadata: {name: pip}
spec:
  canvas: {width: 1280, height: 720}
  panes:
    - {user: host, x: 0, y: 0, width: 1, height: 1}
    - {user: guest, x: 0.006, y: 0.006, width: 0.236, height: 0.236}
"""


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return copy_example("aliyun", tmp_path)


def layout_calls(cluster: EmulatorCluster) -> dict[str, int]:
    counts = actions(cluster, "aliyun")
    return {a: counts[a] for a in LAYOUT_WRITES if counts[a]}


def layouts(cluster: EmulatorCluster) -> dict[str, dict[str, Any]]:
    """Aliyun's custom layouts by the Layout name they were derived from."""
    found = control(cluster, "aliyun", "layouts")["layouts"]
    return {x["Name"].removeprefix("rtcr-").rsplit("-", 1)[0]: x for x in found.values()}


def task_of(cluster: EmulatorCluster, channel: str) -> dict[str, Any]:
    [task] = [t for t in tasks(cluster, "aliyun").values() if t["channel"] == channel and t["status"] in (0, 1)]
    return task


def drawn(task: dict[str, Any]) -> list[tuple[str, float, float, float, float]]:
    """What the first layout of a task draws: (user, x, y, width, height), bottom to top."""
    panes = sorted(task["mix"][0]["panes"], key=lambda p: p["ZOrder"])
    return [(p["UserId"], p["X"], p["Y"], p["Width"], p["Height"]) for p in panes]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_preset_geometry_uses_the_preset_id_and_makes_no_layout_call(
        vendors: EmulatorCluster, example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (example / "layouts.yaml").write_text(PIP)
    edit(example / "tasks.yaml", "layout: speaker-plus-3", "layout: pip")
    edit(example / "tasks.yaml", "layout: grid-2x2", "layout: pip")
    plan = reconciler(capsys, "plan", str(example))
    assert plan.code == 0 and "Layout/" not in plan.out
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    assert not any(a.endswith("MPULayout") or a == "DescribeMPULayoutInfoList" for a in actions(vendors, "aliyun"))
    task = task_of(vendors, "townhall")
    assert task["layoutIds"] == [3]  # picture-in-picture 1, from the layout description
    assert drawn(task) == [("host", 0, 0, 1, 1), ("guest", 0.00625, 0.00625, 0.2361, 0.2361)]


def test_a_custom_geometry_is_created_once_then_modified_in_place(
        vendors: EmulatorCluster, example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = reconciler(capsys, "plan", str(example))
    assert plan.out.index(f"+ {SPEAKER}  create-layout") < plan.out.index("+ MixTask/townhall-live  start")
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    assert layout_calls(vendors) == {"CreateMPULayout": 2}
    speaker = layouts(vendors)["speaker-plus-3"]
    task = task_of(vendors, "townhall")
    assert task["layoutIds"] == [speaker["LayoutId"]]
    assert drawn(task) == [("host", 0, 0, 0.75, 1), ("guest1", 0.75, 0, 0.25, 0.33), ("guest2", 0.75, 0.33, 0.25, 0.33),
                           ("", 0.75, 0.66, 0.25, 0.34)]
    assert speaker["AudioMixCount"] == 4 and [p["MajorPane"] for p in speaker["Panes"]["Panes"]] == [1, 0, 0, 0]

    second = reconciler(capsys, "apply", str(example), "--auto-approve")
    assert "No changes." in second.out and layout_calls(vendors) == {"CreateMPULayout": 2}  # idempotent

    edit(example / "layouts.yaml", "{user: host,   x: 0,    y: 0,    width: 0.75",
         "{user: host,   x: 0,    y: 0,    width: 0.7")
    plan = reconciler(capsys, "plan", str(example))
    assert plan.out.index(f"~ {SPEAKER}  modify-layout") < plan.out.index("~ MixTask/townhall-live  update-layout")
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    assert layout_calls(vendors) == {"CreateMPULayout": 2, "ModifyMPULayout": 1}
    log = [e["action"] for e in control(vendors, "aliyun", "requests")["log"]]
    assert log.index("ModifyMPULayout") < log.index("UpdateMPULayout")  # the task waits for its layout's step
    assert actions(vendors, "aliyun")["StartMPUTask"] == 2 and "StopMPUTask" not in actions(vendors, "aliyun")
    assert drawn(task_of(vendors, "townhall"))[0] == ("host", 0, 0, 0.7, 1)
    assert reconciler(capsys, "plan", str(example), "--detailed-exitcode").code == 0


def test_a_layout_edited_in_the_console_is_repaired(
        vendors: EmulatorCluster, example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    speaker = layouts(vendors)["speaker-plus-3"]
    wanted = speaker["Panes"]["Panes"]
    edited = [{**p, "Width": 0.5} if p["PaneId"] == 0 else p for p in wanted]
    control(vendors, "aliyun", "drift", {"layoutId": speaker["LayoutId"], "panes": edited})
    plan = reconciler(capsys, "plan", str(example), "--detailed-exitcode")
    assert plan.code == 2 and f"~ {SPEAKER}  modify-layout (drift)" in plan.out
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    assert layout_calls(vendors) == {"CreateMPULayout": 2, "ModifyMPULayout": 1}
    assert layouts(vendors)["speaker-plus-3"]["Panes"]["Panes"] == wanted
    assert drawn(task_of(vendors, "townhall"))[0] == ("host", 0, 0, 0.75, 1)
    assert reconciler(capsys, "plan", str(example), "--detailed-exitcode").code == 0


def test_a_layout_deleted_in_the_console_is_created_again_and_its_task_pointed_at_it(
        vendors: EmulatorCluster, example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    old = layouts(vendors)["speaker-plus-3"]["LayoutId"]
    control(vendors, "aliyun", "drift", {"layoutId": old, "delete": True})
    plan = reconciler(capsys, "plan", str(example), "--detailed-exitcode")
    assert plan.code == 2 and f"+ {SPEAKER}  create-layout (drift)" in plan.out
    assert "~ MixTask/townhall-live  update-layout" in plan.out
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    new = layouts(vendors)["speaker-plus-3"]["LayoutId"]
    assert new != old and task_of(vendors, "townhall")["layoutIds"] == [new]
    assert reconciler(capsys, "plan", str(example), "--detailed-exitcode").code == 0


def test_a_layout_no_longer_used_is_deleted_only_with_prune(
        vendors: EmulatorCluster, example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    edit(example / "tasks.yaml", "layout: speaker-plus-3", "layout: grid-2x2")
    plan = reconciler(capsys, "plan", str(example))
    assert f"= {SPEAKER}  orphan" in plan.out and "`apply --prune` would delete-layout it" in plan.out
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    assert "DeleteMPULayout" not in actions(vendors, "aliyun") and "speaker-plus-3" in layouts(vendors)

    pruned = reconciler(capsys, "apply", str(example), "--prune", "--auto-approve")
    assert pruned.code == 0 and f"ok {SPEAKER} delete-layout" in pruned.out
    assert layout_calls(vendors) == {"CreateMPULayout": 2, "DeleteMPULayout": 1}
    assert set(layouts(vendors)) == {"grid-2x2"}
    assert reconciler(capsys, "plan", str(example), "--detailed-exitcode").code == 0


def test_a_removed_layout_is_deleted_after_the_task_that_used_it_moved_on(
        vendors: EmulatorCluster, example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    edit(example / "tasks.yaml", "layout: speaker-plus-3", "layout: grid-2x2")
    assert reconciler(capsys, "apply", str(example), "--prune", "--auto-approve").code == 0
    log = [e["action"] for e in control(vendors, "aliyun", "requests")["log"]]
    assert log.index("UpdateMPULayout") < log.index("DeleteMPULayout")  # never deleted while a task uses it
    assert set(layouts(vendors)) == {"grid-2x2"}


def test_two_layouts_with_the_same_pane_count_for_one_task_are_refused_at_their_line(
        vendors: EmulatorCluster, example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tasks_file = example / "tasks.yaml"
    edit(tasks_file, "  layout: speaker-plus-3\n", "  layout: speaker-plus-3\n  layouts:\n    - grid-2x2\n")
    line = tasks_file.read_text().splitlines().index("    - grid-2x2") + 1
    result = reconciler(capsys, "validate", str(example))
    assert result.code == 1
    assert (f"{tasks_file}:{line}:7: MixTask/townhall-live: spec.layouts[0]: layout 'grid-2x2' has 4 panes like "
            "layout 'speaker-plus-3'") in result.err
    assert actions(vendors, "aliyun") == {}


def test_a_lost_create_answer_is_found_by_name_and_never_makes_a_second_layout(
        vendors: EmulatorCluster, example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    control(vendors, "aliyun", "faults", {"action": "CreateMPULayout", "type": "lost-response", "count": 1})
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    assert layout_calls(vendors) == {"CreateMPULayout": 2}  # the lost one was found by its Name, not sent again
    assert sorted(layouts(vendors)) == ["grid-2x2", "speaker-plus-3"]
    assert reconciler(capsys, "plan", str(example), "--detailed-exitcode").code == 0


def test_a_kill_during_create_layout_is_recovered_from_its_intent(
        vendors: EmulatorCluster, example: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    kill_apply_during(vendors, "aliyun", "CreateMPULayout", example, SPEAKER, tmp_path)
    record = open_state(tmp_path / ".reconciler" / "state.db").get(SPEAKER)
    assert record is not None and record.intent is not None and record.intent.operation == "create"
    deadline = time.monotonic() + 10
    while "speaker-plus-3" not in layouts(vendors) and time.monotonic() < deadline:  # the vendor finishes it
        time.sleep(0.05)
    httpx.delete(f"{vendors.endpoints['aliyun']}/_emulator/faults", timeout=5).raise_for_status()
    plan = reconciler(capsys, "plan", str(example), "--target", SPEAKER, "--detailed-exitcode")
    assert "an interrupted start was found running at the vendor and adopted" in plan.out
    assert plan.code == 0
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    assert layout_calls(vendors) == {"CreateMPULayout": 2} and len(layouts(vendors)) == 2
    record = open_state(tmp_path / ".reconciler" / "state.db").get(SPEAKER)
    assert record is not None and record.handles == {"LayoutId": str(layouts(vendors)["speaker-plus-3"]["LayoutId"])}


def test_a_task_is_not_started_when_its_layout_could_not_be_created(
        vendors: EmulatorCluster, example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    control(vendors, "aliyun", "faults", {"action": "CreateMPULayout", "type": "error", "code": "InvalidParameter",
                                          "status": 400, "count": 2})
    result = reconciler(capsys, "apply", str(example), "--auto-approve")
    assert result.code == 1
    assert "MixTask/townhall-live start: not attempted: Layout/speaker-plus-3@ali-demo did not succeed first" in result.out
    assert "StartMPUTask" not in actions(vendors, "aliyun")
