"""Output piped into a reader that stops early (`reconciler plan ... | head -1`): never a traceback,
and an apply still makes and records every change (its printing runs apart from its calls)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.manifests import write_manifests
from reconciler.emulator.cluster import EmulatorCluster
from tests.conftest import control


def closed_after_first_line(args: list[str], cwd: Path) -> tuple[int, str]:
    process = subprocess.Popen([sys.executable, "-m", "reconciler", *args], cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=os.environ.copy())
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()  # as `head -1` does: every later write meets a closed pipe
    err = process.stderr.read().decode()
    return process.wait(timeout=300), err


def test_plan_and_apply_into_a_closed_pipe_end_with_one_line_and_no_traceback(
        vendors: EmulatorCluster, tmp_path: Path) -> None:
    root = tmp_path / "m"
    write_manifests(root, 400, 4)  # a plan far longer than a pipe's buffer
    state = ["--state", f"sqlite:///{tmp_path / 'state.db'}"]
    code, err = closed_after_first_line(["plan", *state, str(root)], tmp_path)
    assert code in (0, 1) and "Traceback" not in err, err

    code, err = closed_after_first_line(["apply", *state, "--auto-approve", str(root)], tmp_path)
    assert code in (0, 1) and "Traceback" not in err, err
    requests = control(vendors, "aliyun", "requests")["actions"]
    assert sum(requests["StartMPUTask"].values()) == 400  # the apply went on without its output
    done = subprocess.run([sys.executable, "-m", "reconciler", "plan", *state, "--detailed-exitcode", str(root)],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr  # and recorded every change in state
