"""Running the real CLI entry point in-process and reading what the emulators recorded."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.emulator.cluster import EmulatorCluster
from tests.conftest import REPO, control


@dataclass
class Run:
    code: int
    out: str
    err: str


def reconciler(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


STATE_NOTES = ("note: no state existed at ", "note: no state at ")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`reconciler(...)` as a tuple: (exit code, stdout, stderr without the notes saying that a state was
    created or is missing; tests/cli/test_state_location.py checks those)."""
    result = reconciler(capsys, *args)
    err = "".join(line for line in result.err.splitlines(keepends=True) if not line.startswith(STATE_NOTES))
    return result.code, result.out, err


def copy_example(name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copytree(REPO / "examples" / name, target)
    return target


def actions(cluster: EmulatorCluster, vendor: str) -> Counter[str]:
    """How many requests per action the vendor's emulator has received (any outcome)."""
    counts = control(cluster, vendor, "requests")["actions"]
    return Counter({action: sum(outcomes.values()) for action, outcomes in counts.items()})


def aliyun_actions(cluster: EmulatorCluster) -> dict[str, int]:
    return dict(actions(cluster, "aliyun"))


def tasks(cluster: EmulatorCluster, vendor: str) -> dict[str, dict]:
    return control(cluster, vendor, "state")["tasks"]


def kill_apply_during(cluster: EmulatorCluster, vendor: str, action: str, example: Path, target: str,
                      cwd: Path) -> None:
    """Run `reconciler apply` in a child process and kill -9 it while the vendor holds its `action` call.

    The emulator holds the call (a "hold" fault) until the child is dead, then lets the vendor finish it:
    when this returns, the vendor has served the call the killed run never saw answered.
    """
    control(cluster, vendor, "faults", {"action": action, "type": "hold", "count": 1})
    child = subprocess.Popen([sys.executable, "-m", "reconciler", "apply", str(example), "--auto-approve",
                              "--target", target], env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=cwd,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_requests(cluster, vendor, lambda requests: bool(requests["held"].get(action)),
                      child, "the apply never reached the vendor")
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert control(cluster, vendor, "release", {"action": action}) == {"released": 1}
    wait_for_requests(cluster, vendor, lambda requests: not requests["inFlight"].get(action), None,
                      f"the vendor never finished the {action} it held")


def wait_for_requests(cluster: EmulatorCluster, vendor: str, done: Callable[[dict], bool],
                      child: subprocess.Popen[bytes] | None, failure: str) -> None:
    """Poll the emulator's request counters until `done` holds (the deadline only bounds a broken run)."""
    deadline = time.monotonic() + 60
    while not done(control(cluster, vendor, "requests")):
        if time.monotonic() > deadline or (child is not None and child.poll() is not None):
            if child is not None:
                child.kill()
            pytest.fail(failure)
        time.sleep(0.02)
