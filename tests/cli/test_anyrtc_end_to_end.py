"""anyRTC cloud recordings through the whole product: the real CLI entry point, the real SQLite state,
and the anyRTC emulator over loopback sockets. Assertions are on what the emulator received."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from reconciler.emulator.cluster import EmulatorCluster
from reconciler.state import open_state
from reconciler.vendors.anyrtc.emulator import AnyrtcEmulator
from tests.cli.helpers import actions, copy_example, kill_apply_during, reconciler, tasks
from tests.conftest import control

WRITES = ("acquire", "start", "update", "updateLayout", "stop")


def writes(cluster: EmulatorCluster) -> dict[str, int]:
    counts = actions(cluster, "anyrtc")
    return {a: counts[a] for a in WRITES if counts[a]}


def recording_phases(cluster: EmulatorCluster) -> list[tuple[str, str]]:
    return [(r["cname"], r["phase"]) for r in tasks(cluster, "anyrtc")["recordings"]]


@pytest.fixture
def example(vendors: EmulatorCluster, tmp_path: Path) -> Path:
    # many short CLI runs in a row: lift the per-App-ID limit so no run waits for another's window
    control(vendors, "anyrtc", "limits", {"action": "cloud_recording", "perSecond": 1000})
    return copy_example("anyrtc", tmp_path)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_examples_start_once_and_a_second_apply_writes_nothing(vendors: EmulatorCluster, example: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    plan = reconciler(capsys, "plan", str(example), "--detailed-exitcode")
    assert plan.code == 2, plan.err
    assert "+ Recording/townhall-archive  start-recording" in plan.out
    assert "Plan: 3 to start, 0 to update, 0 to stop, 0 to resume, 0 unchanged" in plan.out
    assert writes(vendors) == {}
    first = reconciler(capsys, "apply", str(example), "--auto-approve")
    assert first.code == 0, first.err
    assert "Apply: 3 succeeded, 0 failed" in first.out
    assert writes(vendors) == {"acquire": 3, "start": 3}
    assert sorted(recording_phases(vendors)) == [("classroom-7", "recording"), ("townhall", "recording"),
                                                 ("webinar", "recording")]
    second = reconciler(capsys, "apply", str(example), "--auto-approve")
    assert second.code == 0 and "No changes." in second.out
    assert writes(vendors) == {"acquire": 3, "start": 3}
    assert reconciler(capsys, "plan", str(example), "--detailed-exitcode").code == 0
    record = open_state(".reconciler/state.db").get("Recording/townhall-archive")
    assert record is not None and set(record.handles) == {"cname", "uid", "mode", "resourceId", "sid"}


def test_subscriptions_and_layout_update_in_place_other_fields_replace(vendors: EmulatorCluster, example: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    edit(example / "recording-mix-s3.yaml", 'video: ["1001", "1002", "1003"]', 'video: ["1001", "1004"]')
    edit(example / "layout.yaml", 'background: "#101820"', 'background: "#202020"')
    plan = reconciler(capsys, "plan", str(example), "--format", "json", "--detailed-exitcode")
    assert plan.code == 2, plan.err
    [change] = [c for c in json.loads(plan.out)["changes"] if c["action"] != "no-op"]
    assert (change["address"], change["verb"], change["update_groups"]) == (
        "Recording/townhall-archive", "update-layout+update-subscriptions", ["layout", "subscribe"])
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    assert writes(vendors) == {"acquire": 3, "start": 3, "update": 1, "updateLayout": 1}
    townhall = next(r for r in tasks(vendors, "anyrtc")["recordings"] if r["cname"] == "townhall")
    assert townhall["subscription"]["video"] == {"subscribe": ["1001", "1004"]}
    assert townhall["layout"]["backgroundColor"] == "#202020" and len(townhall["layout"]["layoutConfig"]) == 3

    edit(example / "recording-mix-s3.yaml", "bucket: townhall-recordings", "bucket: townhall-archive-2")
    plan = reconciler(capsys, "plan", str(example))
    assert "storage cannot be changed on a running Recording at anyrtc; it will be stopped and started anew" in plan.out
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    assert writes(vendors) == {"acquire": 4, "start": 4, "update": 1, "updateLayout": 1, "stop": 1}
    assert [p for c, p in recording_phases(vendors) if c == "townhall"] == ["stopped", "recording"]


def test_idle_exit_is_drift_repaired_by_a_new_recording_and_stop_is_applied(vendors: EmulatorCluster, example: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    control(vendors, "anyrtc", "channels", {"cname": "webinar", "usersPresent": False})
    control(vendors, "anyrtc", "clock", {"advance": 30})
    plan = reconciler(capsys, "plan", str(example), "--detailed-exitcode")
    assert plan.code == 2
    assert "+ Recording/webinar-vod  start-recording (drift)" in plan.out
    assert "drift: the vendor reports it is not running (not recording: query answered 404" in plan.out
    control(vendors, "anyrtc", "channels", {"cname": "webinar", "usersPresent": True})
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    assert [p for c, p in recording_phases(vendors) if c == "webinar"] == ["exited", "recording"]

    edit(example / "recording-individual-snapshots.yaml", "state: recording", "state: stopped")
    assert "- Recording/classroom-snapshots  stop-recording" in reconciler(capsys, "plan", str(example)).out
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    assert [p for c, p in recording_phases(vendors) if c == "classroom-7"] == ["stopped"]
    assert reconciler(capsys, "plan", str(example), "--detailed-exitcode").code == 0


def test_a_lost_start_answer_is_reported_as_an_orphan_and_never_doubled(vendors: EmulatorCluster, example: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("recording-individual-snapshots.yaml", "recording-aliyun-vod.yaml"):
        (example / name).unlink()
    control(vendors, "anyrtc", "faults", {"action": "start", "type": "lost-response", "count": 1})
    first = reconciler(capsys, "apply", str(example), "--auto-approve")
    assert first.code == 1
    assert "cannot start: a start whose answer was lost took effect (channel 'townhall', uid 900001" in first.out + \
        first.err
    again = reconciler(capsys, "apply", str(example), "--auto-approve")
    assert again.code == 1 and "a recording of this channel with this uid runs that the state does not name" in \
        again.out + again.err
    assert recording_phases(vendors) == [("townhall", "recording")]  # one recording, never a second
    control(vendors, "anyrtc", "channels", {"cname": "townhall", "usersPresent": False})
    control(vendors, "anyrtc", "clock", {"advance": 60})
    control(vendors, "anyrtc", "channels", {"cname": "townhall", "usersPresent": True})
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    assert recording_phases(vendors) == [("townhall", "exited"), ("townhall", "recording")]


def test_storage_keys_never_reach_output_or_state(vendors: EmulatorCluster, example: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    outputs = [reconciler(capsys, "plan", str(example), "--format", fmt) for fmt in ("text", "json")]
    outputs.append(reconciler(capsys, "apply", str(example), "--auto-approve"))
    outputs.append(reconciler(capsys, "state", "show", "Recording/townhall-archive"))
    state = Path(".reconciler/state.db").read_bytes()
    assert b"ANYRTC_STORAGE_SECRET_KEY" in state
    for name, secret in AnyrtcEmulator.DEMO_ENV.items():
        if name.endswith(("SECRET", "SECRET_KEY", "ACCESS_KEY", "KEY_ID")):
            assert secret.encode() not in state, name
            assert all(secret not in run.out + run.err for run in outputs), name
    [start] = [e for e in control(vendors, "anyrtc", "requests")["log"]
               if e["action"] == "start" and e["body"]["cname"] == "townhall"]
    assert start["body"]["clientRequest"]["storageConfig"]["secretKey"] == "demo-storage-secret-key-9d21"


def test_kill_during_start_keeps_the_resource_id_and_never_starts_twice(
        vendors: EmulatorCluster, example: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Kill -9 an apply while anyRTC holds its start: the resource ID is already in state, the sid never
    arrives, and the next runs report the recording instead of starting a second one."""
    kill_apply_during(vendors, "anyrtc", "start", example, "Recording/townhall-archive", tmp_path)
    record = open_state(tmp_path / ".reconciler" / "state.db").get("Recording/townhall-archive")
    assert record is not None and record.intent is not None and record.intent.operation == "create"
    assert record.intent.handles.get("resourceId") and "sid" not in record.intent.handles
    deadline = time.monotonic() + 10
    while not recording_phases(vendors) and time.monotonic() < deadline:  # the vendor finishes the start
        time.sleep(0.05)
    assert recording_phases(vendors) == [("townhall", "recording")]
    httpx.delete(f"{vendors.endpoints['anyrtc']}/_emulator/faults", timeout=5).raise_for_status()

    again = reconciler(capsys, "apply", str(example), "--auto-approve", "--target", "Recording/townhall-archive")
    assert again.code == 1
    assert ("anyrtc start failed: 53: cannot start: a recording of this channel with this uid runs that the state "
            "does not name (channel 'townhall', uid 900001). anyRTC cannot report its sid, so it cannot be queried or "
            "stopped through the API. It ends by itself once the channel has been empty for 60 s: run apply again "
            "after that, or ask anyRTC support to stop the recording of uid 900001 in that channel. If another tool "
            "records with this uid, give this Recording a different recorderUid.") in again.out + again.err
    assert recording_phases(vendors) == [("townhall", "recording")]
    control(vendors, "anyrtc", "channels", {"cname": "townhall", "usersPresent": False})
    control(vendors, "anyrtc", "clock", {"advance": 60})
    control(vendors, "anyrtc", "channels", {"cname": "townhall", "usersPresent": True})
    assert reconciler(capsys, "apply", str(example), "--auto-approve", "--target",
                      "Recording/townhall-archive").code == 0
    assert recording_phases(vendors) == [("townhall", "exited"), ("townhall", "recording")]
