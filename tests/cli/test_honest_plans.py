"""A plan never claims what it did not observe, and a lost state never deadlocks or starts twice.
Assertions are on what the emulators hold and received."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reconciler.emulator.cluster import EmulatorCluster
from tests.cli.helpers import actions, copy_example, reconciler, tasks
from tests.conftest import REPO, control

VENDORS_MATCH = "The vendors match the manifests."


def test_jobs_gone_behind_the_tool_that_cannot_be_read_back_are_unverifiable_not_unchanged(
        vendors: EmulatorCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    zego, tencent = copy_example("zego", tmp_path), copy_example("tencent", tmp_path)
    assert reconciler(capsys, "apply", str(zego), str(tencent), "--auto-approve").code == 0
    assert tasks(vendors, "zego")["streams"] and tasks(vendors, "tencent")["mixes"]  # the ban, the mix
    for vendor in ("zego", "tencent"):  # the vendors lose everything, as fresh emulators would
        control(vendors, vendor, "reset", {})
    assert not any(tasks(vendors, "zego").values()) and not tasks(vendors, "tencent")["mixes"]

    plan = reconciler(capsys, "plan", str(zego), str(tencent), "--format", "json")
    data = json.loads(plan.out)
    assert data["summary"]["unverifiable"] == 2 and data["summary"]["start"] == 1  # the ZEGO mix is seen gone
    unverified = {c["address"]: c["unverified"] for c in data["changes"] if c["unverified"]}
    assert set(unverified) == {"MixTask/webinar-mix", "StreamRule/ban-heckler"}
    assert "Tencent has no call that reads an MCU mix back" in unverified["MixTask/webinar-mix"]

    text = reconciler(capsys, "plan", str(zego), str(tencent))
    assert VENDORS_MATCH not in text.out
    assert "? StreamRule/ban-heckler  unverifiable" in text.out and "2 unverifiable" in text.out
    markdown = reconciler(capsys, "plan", str(zego), str(tencent), "--format", "markdown")
    assert VENDORS_MATCH not in markdown.out and "unverifiable" in markdown.out

    assert reconciler(capsys, "apply", str(zego), str(tencent), "--auto-approve").code == 0
    after = reconciler(capsys, "plan", str(zego), str(tencent), "--detailed-exitcode")
    assert after.code == 0  # nothing apply could do; the count says what was taken on trust
    assert VENDORS_MATCH not in after.out and "2 unverifiable" in after.out


def test_vendors_match_is_said_only_when_every_job_was_observed(
        vendors: EmulatorCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = copy_example("aliyun", tmp_path)
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    plan = reconciler(capsys, "plan", str(example), "--detailed-exitcode")
    assert plan.code == 0 and VENDORS_MATCH in plan.out and "unverifiable" not in plan.out
    assert actions(vendors, "aliyun")["GetMPUTaskStatus"] > 0


def test_demo_run_twice_does_not_claim_the_unreadable_jobs_match(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    assert reconciler(capsys, "demo").code == 0
    second = reconciler(capsys, "demo")  # fresh emulators: the ban and the Tencent mix are gone there
    assert second.code == 0
    again = second.out.split("== plan again ==")[1]
    assert VENDORS_MATCH not in again
    assert "? MixTask/webinar-mix  unverifiable" in again and "? StreamRule/ban-heckler  unverifiable" in again
    assert again.rstrip().endswith("2 unverifiable: the vendor cannot report them or did not answer")


@pytest.mark.parametrize("saved", [False, True], ids=["apply-paths", "apply-saved-plan"])
def test_a_lost_state_adopts_the_running_generation_instead_of_deadlocking(
        vendors: EmulatorCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str], saved: bool) -> None:
    example = copy_example("aliyun", tmp_path)
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    [first] = [t for t in tasks(vendors, "aliyun") if t.startswith("rtcr-townhall-live-")]
    control(vendors, "aliyun", "drift", {"taskId": first, "status": 3})  # stopped at the vendor
    control(vendors, "aliyun", "clock", {"advance": 11})  # past the stream URL's 10 s reuse window
    repaired = reconciler(capsys, "apply", str(example), "--auto-approve")
    assert repaired.code == 0, repaired.out
    second = first.removesuffix("-g1") + "-g2"
    assert tasks(vendors, "aliyun")[second]["status"] == 1
    starts = actions(vendors, "aliyun")["StartMPUTask"]
    assert starts == 3

    shutil.rmtree(tmp_path / ".reconciler")  # the state is lost
    if saved:
        planned = reconciler(capsys, "plan", str(example), "--out", "plan.json")
        assert f"found running at aliyun as TaskId {second} (generation 2)" in planned.out
        adopted = reconciler(capsys, "apply", "plan.json")
    else:
        adopted = reconciler(capsys, "apply", str(example), "--auto-approve")
    assert adopted.code == 0, adopted.out + adopted.err
    assert f"found running at aliyun as TaskId {second} (generation 2)" in adopted.out
    assert actions(vendors, "aliyun")["StartMPUTask"] == starts  # no second copy, no Task.AlreadyExists
    running = sorted(t for t, v in tasks(vendors, "aliyun").items() if v["status"] in (0, 1))
    assert len(running) == 2 and second in running
    assert actions(vendors, "aliyun")["UpdateMPULayout"] == 2  # the layouts Aliyun cannot report, set again
    assert reconciler(capsys, "plan", str(example), "--detailed-exitcode").code == 0


def test_a_new_state_starts_the_generation_after_the_last_stopped_one(
        vendors: EmulatorCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = copy_example("aliyun", tmp_path)
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    for task_id in list(tasks(vendors, "aliyun")):
        control(vendors, "aliyun", "drift", {"taskId": task_id, "status": 4})
    control(vendors, "aliyun", "clock", {"advance": 11})  # past the stream URLs' 10 s reuse window
    shutil.rmtree(tmp_path / ".reconciler")
    plan = reconciler(capsys, "plan", str(example))
    assert "so a start uses generation 2" in plan.out
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    running = sorted(t for t, v in tasks(vendors, "aliyun").items() if v["status"] in (0, 1))
    assert len(running) == 2 and all(t.endswith("-g2") for t in running)
    assert actions(vendors, "aliyun")["StartMPUTask"] == 4


def test_a_lost_state_adopts_the_running_zego_mix_generation_instead_of_starting_a_second_mix(
        vendors: EmulatorCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = copy_example("zego", tmp_path)
    assert reconciler(capsys, "apply", str(example), "--auto-approve", "--target", "MixTask/concert-mix").code == 0
    [first] = tasks(vendors, "zego")["mixes"]
    control(vendors, "zego", "drift", {"taskId": first, "remove": True})  # the mix ended at ZEGO
    assert reconciler(capsys, "apply", str(example), "--auto-approve", "--target", "MixTask/concert-mix").code == 0
    [second] = tasks(vendors, "zego")["mixes"]
    assert second == first.removesuffix("-1") + "-2"
    starts = actions(vendors, "zego")["StartMix"]

    shutil.rmtree(tmp_path / ".reconciler")  # the state is lost
    adopted = reconciler(capsys, "apply", str(example), "--auto-approve", "--target", "MixTask/concert-mix")
    assert adopted.code == 0, adopted.out + adopted.err
    assert f"found running at zego as taskId {second}" in adopted.out
    assert list(tasks(vendors, "zego")["mixes"]) == [second]  # one mix, not a second copy of it
    assert actions(vendors, "zego")["StartMix"] == starts
    assert reconciler(capsys, "plan", str(example), "--target", "MixTask/concert-mix", "--detailed-exitcode").code == 0
