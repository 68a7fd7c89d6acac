"""Adopting an anyRTC recording that already runs: `reconciler import Recording/NAME RESOURCE_ID:SID`."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.emulator.cluster import EmulatorCluster
from reconciler.state import open_state
from tests.cli.helpers import actions, copy_example, reconciler

ADDRESS = "Recording/townhall-archive"


def test_a_running_recording_is_adopted_and_never_started_twice(
        vendors: EmulatorCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = copy_example("anyrtc", tmp_path)
    other = f"sqlite:///{tmp_path}/other.db"  # someone else started it: their state, not ours
    assert reconciler(capsys, "apply", str(example), "--auto-approve", "--state", other,
                      "--target", ADDRESS).code == 0
    started = open_state(Path(f"{tmp_path}/other.db")).get(ADDRESS)
    assert started is not None
    vendor_id = f"{started.handles['resourceId']}:{started.handles['sid']}"
    starts = actions(vendors, "anyrtc")["start"]

    bad = reconciler(capsys, "import", ADDRESS, "no-colon-here", str(example))
    assert bad.code == 1 and "expected RESOURCE_ID:SID for a Recording" in bad.err

    # resource ids may start with a dash, which only `--` keeps from being read as an option
    adopted = reconciler(capsys, "import", ADDRESS, "--", vendor_id, str(example))
    assert adopted.code == 0, adopted.err
    record = open_state(Path(".reconciler/state.db")).get(ADDRESS)
    assert record is not None and record.lifecycle == "active"
    assert (record.handles["resourceId"], record.handles["sid"]) == (started.handles["resourceId"],
                                                                     started.handles["sid"])
    assert record.handles["cname"] == "townhall"

    plan = reconciler(capsys, "plan", str(example), "--target", ADDRESS, "--format", "json")
    assert '"action": "create"' not in plan.out
    assert reconciler(capsys, "apply", str(example), "--auto-approve", "--target", ADDRESS).code == 0
    assert actions(vendors, "anyrtc")["start"] == starts  # adopted, not started again
    assert reconciler(capsys, "plan", str(example), "--target", ADDRESS, "--detailed-exitcode").code == 0
