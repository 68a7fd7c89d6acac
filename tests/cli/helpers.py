"""Running the real CLI entry point in-process and reading what the emulators recorded."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
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

    The vendor is slowed by an injected latency fault first, so the call is in flight when the kill lands;
    the caller removes the fault when it wants the vendor fast again.
    """
    control(cluster, vendor, "faults", {"action": action, "type": "latency", "latencyMs": 1500})
    child = subprocess.Popen([sys.executable, "-m", "reconciler", "apply", str(example), "--auto-approve",
                              "--target", target], env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=cwd,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not control(cluster, vendor, "requests")["inFlight"].get(action):
        if time.monotonic() > deadline or child.poll() is not None:
            child.kill()
            pytest.fail("the apply never reached the vendor")
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
