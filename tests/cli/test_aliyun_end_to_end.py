"""The whole product on Alibaba Cloud MPU tasks: the real CLI entry point, the real SQLite state,
and the emulator over loopback sockets. Assertions are on what the emulator received."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest

from reconciler.emulator.cluster import EmulatorCluster
from reconciler.state import LockInfo, open_state
from tests.cli.helpers import actions, copy_example, kill_apply_during, reconciler, tasks
from tests.conftest import control

WRITES = ("StartMPUTask", "UpdateMPULayout", "UpdateMPUTask", "StopMPUTask")


def writes(cluster: EmulatorCluster) -> dict[str, int]:
    counts = actions(cluster, "aliyun")
    return {a: counts[a] for a in WRITES if counts[a]}


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return copy_example("aliyun", tmp_path)


def running_ids(cluster: EmulatorCluster) -> set[str]:
    return {tid for tid, t in tasks(cluster, "aliyun").items() if t["status"] in (0, 1)}


def test_create_then_second_apply_makes_no_vendor_write(vendors: EmulatorCluster, example: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    plan = reconciler(capsys, "plan", str(example), "--detailed-exitcode")
    assert plan.code == 2, plan.err
    assert "+ MixTask/townhall-live  start" in plan.out
    assert "+ Layout/speaker-plus-3@ali-demo  create-layout" in plan.out
    assert "Plan: 4 to start, 0 to update, 0 to stop, 0 to resume, 0 unchanged" in plan.out
    assert writes(vendors) == {}  # plan never writes

    first = reconciler(capsys, "apply", str(example), "--auto-approve")
    assert first.code == 0, first.err
    assert "Apply: 4 succeeded, 0 failed" in first.out
    assert writes(vendors) == {"StartMPUTask": 2}
    assert len(running_ids(vendors)) == 2

    second = reconciler(capsys, "apply", str(example), "--auto-approve")
    assert second.code == 0
    assert "No changes." in second.out
    assert writes(vendors) == {"StartMPUTask": 2}
    assert reconciler(capsys, "plan", str(example), "--detailed-exitcode").code == 0

    listing = reconciler(capsys, "state", "list")
    assert "MixTask/townhall-live\tactive\taliyun\tTaskId=rtcr-townhall-live-" in listing.out


def test_layout_change_is_updated_in_place(vendors: EmulatorCluster, example: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    layouts = example / "layouts.yaml"
    layouts.write_text(layouts.read_text().replace("{user: guest1,", "{user: guest9,"))
    plan = reconciler(capsys, "plan", str(example), "--format", "json", "--detailed-exitcode")
    assert plan.code == 2
    data = json.loads(plan.out)
    [change] = [c for c in data["changes"] if c["action"] != "no-op"]
    assert (change["address"], change["verb"]) == ("MixTask/townhall-live", "update-layout")
    assert change["fields"] == [{"path": "layout.panes[1].user", "before": "guest1", "after": "guest9"}]
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    assert writes(vendors) == {"StartMPUTask": 2, "UpdateMPULayout": 1}
    log = control(vendors, "aliyun", "requests")["log"]
    [update] = [e for e in log if e["action"] == "UpdateMPULayout"]
    assert "guest9" in update["params"].values()
    assert reconciler(capsys, "plan", str(example), "--detailed-exitcode").code == 0


def test_stop_when_the_manifest_says_stopped(vendors: EmulatorCluster, example: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    task_file = example / "tasks.yaml"
    task_file.write_text(task_file.read_text().replace("state: running", "state: stopped", 1))
    result = reconciler(capsys, "apply", str(example), "--auto-approve")
    assert result.code == 0
    assert "- MixTask/townhall-live  stop" in result.out
    assert writes(vendors) == {"StartMPUTask": 2, "StopMPUTask": 1}
    assert len(running_ids(vendors)) == 1
    assert reconciler(capsys, "plan", str(example), "--detailed-exitcode").code == 0


def test_drift_is_shown_and_repaired_with_a_fresh_task_id(vendors: EmulatorCluster, example: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    before = open_state(".reconciler/state.db").get("MixTask/townhall-live")
    assert before is not None
    old_id = before.handles["TaskId"]
    control(vendors, "aliyun", "drift", {"taskId": old_id, "status": 4})
    control(vendors, "aliyun", "clock", {"advance": 11})  # past the stream URL's 10 s reuse window
    plan = reconciler(capsys, "plan", str(example), "--detailed-exitcode")
    assert plan.code == 2
    assert "+ MixTask/townhall-live  start (drift)" in plan.out
    assert "drift: the vendor reports it is not running (status 4: " in plan.out
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    after = open_state(".reconciler/state.db").get("MixTask/townhall-live")
    assert after is not None and after.generation == 2
    assert after.handles["TaskId"] != old_id
    assert after.handles["TaskId"] in running_ids(vendors)
    assert reconciler(capsys, "plan", str(example), "--detailed-exitcode").code == 0


def test_removed_task_is_an_orphan_stopped_only_with_prune(vendors: EmulatorCluster, example: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    task_file = example / "tasks.yaml"
    task_file.write_text(task_file.read_text().split("---")[0])  # keep townhall-live only
    plan = reconciler(capsys, "plan", str(example), "--detailed-exitcode")
    assert plan.code == 0
    assert "= MixTask/standup-grid  orphan" in plan.out
    assert "apply --prune" in plan.out
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    assert writes(vendors) == {"StartMPUTask": 2}
    pruned = reconciler(capsys, "apply", str(example), "--auto-approve", "--prune")
    assert pruned.code == 0
    assert writes(vendors) == {"StartMPUTask": 2, "StopMPUTask": 1}
    assert open_state(".reconciler/state.db").get("MixTask/standup-grid") is None


def test_throttling_is_answered_with_backoff(vendors: EmulatorCluster, example: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    control(vendors, "aliyun", "limits", {"action": "StartMPUTask", "perSecond": 1})
    result = reconciler(capsys, "apply", str(example), "--auto-approve")
    assert result.code == 0, result.out + result.err
    requests = control(vendors, "aliyun", "requests")
    assert requests["throttled"] >= 1
    assert requests["actions"]["StartMPUTask"]["ok"] == 2
    assert len(running_ids(vendors)) == 2


def test_transient_error_is_retried_once_and_creates_one_task(vendors: EmulatorCluster, example: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    control(vendors, "aliyun", "faults", {"action": "StartMPUTask", "type": "error", "code": "Service.BuildSignature",
                                          "status": 500, "count": 1})
    result = reconciler(capsys, "apply", str(example), "--auto-approve")
    assert result.code == 0, result.out + result.err
    assert len(running_ids(vendors)) == 2
    assert actions(vendors, "aliyun")["StartMPUTask"] == 3  # one failed, two succeeded


def test_permanent_error_is_reported_once_with_exit_1(vendors: EmulatorCluster, example: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    control(vendors, "aliyun", "faults", {"action": "StartMPUTask", "type": "error", "code": "App.ChargeOverDue",
                                          "status": 200, "count": 1})
    result = reconciler(capsys, "apply", str(example), "--auto-approve")
    assert result.code == 1
    assert "FAILED" in result.out and "ChargeOverDue" in result.out
    assert "Apply: 3 succeeded, 1 failed" in result.out  # both layouts, one task
    assert actions(vendors, "aliyun")["StartMPUTask"] == 2
    store = open_state(".reconciler/state.db")
    assert all(r.intent is None for r in store.records().values())
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0  # the failed one starts now
    assert len(running_ids(vendors)) == 2


def test_invalid_manifest_fails_before_any_vendor_call(vendors: EmulatorCluster, example: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    task_file = example / "tasks.yaml"
    task_file.write_text(task_file.read_text().replace("layout: grid-2x2", "layout: grid-3x3"))
    result = reconciler(capsys, "apply", str(example), "--auto-approve")
    assert result.code == 1
    assert f"{task_file}:18:11: MixTask/standup-grid: spec.layout: no Layout named 'grid-3x3'; did you mean " \
           "'grid-2x2'?" in result.err
    assert "nothing was sent to any vendor" in result.err
    assert control(vendors, "aliyun", "requests")["total"] == 0


def test_missing_credential_is_a_clear_error(vendors: EmulatorCluster, example: Path,
                                             capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALIYUN_ACCESS_KEY_SECRET")
    result = reconciler(capsys, "apply", str(example), "--auto-approve")
    assert result.code == 1
    assert "environment variable ALIYUN_ACCESS_KEY_SECRET is not set" in result.out + result.err


def test_secrets_never_reach_output_or_state(vendors: EmulatorCluster, example: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    secret = os.environ["ALIYUN_ACCESS_KEY_SECRET"]
    outputs = [reconciler(capsys, "plan", str(example), "--format", fmt) for fmt in ("text", "json")]
    outputs.append(reconciler(capsys, "apply", str(example), "--auto-approve"))
    outputs.append(reconciler(capsys, "state", "show", "MixTask/townhall-live"))
    for run in outputs:
        assert secret not in run.out + run.err
    assert secret.encode() not in Path(".reconciler/state.db").read_bytes()


def test_lock_held_by_another_apply_fails_at_once(vendors: EmulatorCluster, example: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    store = open_state(".reconciler/state.db")
    store.acquire_lock(LockInfo(4242, "deploy-runner-3", "2026-11-21T09:00:00Z"))
    result = reconciler(capsys, "apply", str(example), "--auto-approve")
    assert result.code == 1
    assert ("error: the state is locked by pid 4242 on deploy-runner-3 (apply, since 2026-11-21T09:00:00Z)"
            in result.err)
    assert writes(vendors) == {}


def test_foreign_endpoint_in_a_manifest_is_refused(vendors: EmulatorCluster, example: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECONCILER_ENDPOINTS_FILE")
    provider = example / "provider.yaml"
    provider.write_text(provider.read_text().replace("  vendor: aliyun", "  vendor: aliyun\n  endpoint: https://collector.example.net"))
    result = reconciler(capsys, "plan", str(example))
    assert result.code == 1
    assert "provider.yaml:9:13: Provider/ali-demo: spec.endpoint: 'https://collector.example.net' is not a " \
        "documented aliyun API host; expected one of https://rtc.aliyuncs.com" in result.err


def test_crash_between_intent_and_outcome_is_recovered_without_a_second_start(
        vendors: EmulatorCluster, example: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Kill -9 an apply while the vendor is still processing its start; the next run adopts the task."""
    kill_apply_during(vendors, "aliyun", "StartMPUTask", example, "MixTask/townhall-live", tmp_path)
    record = open_state(tmp_path / ".reconciler" / "state.db").get("MixTask/townhall-live")
    assert record is not None and record.intent is not None and record.intent.operation == "create"
    deadline = time.monotonic() + 10
    while not running_ids(vendors) and time.monotonic() < deadline:  # the vendor finishes the start anyway
        time.sleep(0.05)
    assert len(running_ids(vendors)) == 1
    httpx.delete(f"{vendors.endpoints['aliyun']}/_emulator/faults", timeout=5).raise_for_status()

    # the killed run could not release its lock; a dead process of this machine does not block the next run
    plan = reconciler(capsys, "plan", str(example), "--target", "MixTask/townhall-live", "--detailed-exitcode")
    assert "an interrupted start was found running at the vendor and adopted (no second start)" in plan.out
    assert plan.code == 0
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    assert actions(vendors, "aliyun")["StartMPUTask"] == 2  # the interrupted one, and standup-grid
    assert len(running_ids(vendors)) == 2


def test_apply_without_a_terminal_needs_auto_approve(vendors: EmulatorCluster, example: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    result = reconciler(capsys, "apply", str(example))  # stdin is not a terminal under pytest
    assert result.code == 1
    assert "apply needs confirmation: run it in a terminal or pass --auto-approve" in result.err
    assert writes(vendors) == {}
    assert all(r.intent is None for r in open_state(".reconciler/state.db").records().values())
