"""Apply as an operator watches it: changes printed as they finish, retries visible, and Ctrl-C.

Real SIGINTs go to a real child process; when to send them is decided by what the emulator reports
in flight and by the lines the child prints, never by sleeping. A slow vendor call is a call the emulator
holds until the test releases it, so no race depends on how fast the machine is.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from reconciler.emulator.cluster import EmulatorCluster
from reconciler.state import open_state
from tests.cli.helpers import actions, copy_example, reconciler, tasks
from tests.conftest import REPO, control


class Child:
    """`reconciler ARGS` in a child process whose stdout lines are read as they come."""

    def __init__(self, *args: str, cwd: Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "reconciler", *args], cwd=cwd, text=True,
                                        env={**os.environ, "PYTHONPATH": str(REPO)},
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: queue.Queue[str | None] = queue.Queue()  # None: end of output
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for_line(self, text: str) -> str:
        while True:
            try:
                line = self.lines.get(timeout=60)
            except queue.Empty:
                self.process.kill()
                pytest.fail(f"no line with {text!r}; saw {self.seen}")
            if line is None:
                pytest.fail(f"the output ended without a line with {text!r}; saw {self.seen}")
            self.seen.append(line)
            if text in line:
                return line

    def interrupt(self) -> None:
        os.kill(self.process.pid, signal.SIGINT)

    def finish(self) -> tuple[int, str, str]:
        code = self.process.wait(timeout=60)
        assert self.process.stderr is not None
        err = self.process.stderr.read()
        while (line := self.lines.get(timeout=60)) is not None:
            self.seen.append(line)
        return code, "".join(self.seen), err


def in_flight(cluster: EmulatorCluster, action: str) -> int:
    return int(control(cluster, "aliyun", "requests")["inFlight"].get(action, 0))


def held(cluster: EmulatorCluster, action: str) -> int:
    return int(control(cluster, "aliyun", "requests")["held"].get(action, 0))


def wait_in_flight(cluster: EmulatorCluster, action: str, count: int, child: Child | None = None,
                   counter: str = "inFlight") -> None:
    """Poll the emulator's own counter (`inFlight`, or `held`) until it shows `count` `action` calls."""
    deadline = time.monotonic() + 60  # a bound for a broken run only
    while int(control(cluster, "aliyun", "requests")[counter].get(action, 0)) != count:
        if child is not None and child.process.poll() is not None:
            pytest.fail(f"the apply ended first: {child.finish()}")
        assert time.monotonic() < deadline, f"{action} {counter} never reached {count}"
        time.sleep(0.02)


def hold_starts(cluster: EmulatorCluster) -> None:
    """The next StartMPUTask is held in flight until `release_starts`."""
    control(cluster, "aliyun", "faults", {"action": "StartMPUTask", "type": "hold", "count": 1})


def release_starts(cluster: EmulatorCluster) -> None:
    assert control(cluster, "aliyun", "release", {"action": "StartMPUTask"}) == {"released": 1}


def running(cluster: EmulatorCluster) -> set[str]:
    return {tid for tid, task in tasks(cluster, "aliyun").items() if task["status"] in (0, 1)}


def finished(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("  ok ")]


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return copy_example("aliyun", tmp_path)


def test_each_change_is_printed_when_it_finishes(vendors: EmulatorCluster, example: Path, tmp_path: Path) -> None:
    hold_starts(vendors)
    child = Child("apply", str(example), "--auto-approve", cwd=tmp_path)
    wait_in_flight(vendors, "StartMPUTask", 1, child, "held")  # the held one waits at the emulator ...
    child.wait_for_line(" ok MixTask/")  # ... while the other one is already reported
    # one start answered and printed, the other still being served by the emulator
    assert actions(vendors, "aliyun")["StartMPUTask"] == 1 and in_flight(vendors, "StartMPUTask") == 1
    release_starts(vendors)
    code, out, _ = child.finish()
    assert code == 0 and "Apply: 4 succeeded, 0 failed" in out  # two custom layouts, two tasks


def test_first_ctrl_c_lets_the_call_in_flight_finish_and_starts_nothing_new(
        vendors: EmulatorCluster, example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hold_starts(vendors)
    child = Child("apply", str(example), "--auto-approve", "--concurrency", "1", cwd=tmp_path)
    wait_in_flight(vendors, "StartMPUTask", 1, child, "held")
    assert in_flight(vendors, "StartMPUTask") == 1
    child.interrupt()
    child.wait_for_line("Interrupt: starting no new change; waiting for the calls in flight (MixTask/")
    assert child.process.poll() is None  # it waits for the call in flight ...
    release_starts(vendors)  # ... which the vendor now answers
    code, out, err = child.finish()
    assert code == 130, err
    assert "Interrupt: starting no new change; waiting for the calls in flight (MixTask/" in out
    assert "Apply: 3 succeeded, 0 failed, 1 not started" in out  # the layouts first, then one task
    # everything that finished is printed, after the plan and before the summary
    assert [line.split()[1] for line in finished(out)] == ["Layout/grid-2x2@ali-demo",
                                                           "Layout/speaker-plus-3@ali-demo", "MixTask/standup-grid"]
    assert out.index("Plan: 4 to start") < out.index("  ok ") < out.index("Apply: 3 succeeded")
    assert "interrupted: 3 change(s) done, 1 not started; run apply again to continue" in err
    assert actions(vendors, "aliyun")["StartMPUTask"] == 1 and len(running(vendors)) == 1
    records = open_state(tmp_path / ".reconciler" / "state.db").records()
    tasks_in_state = [a for a in records if a.startswith("MixTask/")]
    assert len(tasks_in_state) == 1 and all(r.intent is None for r in records.values())  # the outcome was recorded

    httpx.delete(f"{vendors.endpoints['aliyun']}/_emulator/faults", timeout=5).raise_for_status()
    plan = reconciler(capsys, "plan", str(example), "--detailed-exitcode")
    assert plan.code == 2 and "Plan: 1 to start, 0 to update, 0 to stop, 0 to resume, 3 unchanged" in plan.out
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    assert actions(vendors, "aliyun")["StartMPUTask"] == 2 and len(running(vendors)) == 2


def test_second_ctrl_c_abandons_the_call_in_flight_and_the_next_run_observes_first(
        vendors: EmulatorCluster, example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hold_starts(vendors)
    child = Child("apply", str(example), "--auto-approve", "--concurrency", "1", cwd=tmp_path)
    wait_in_flight(vendors, "StartMPUTask", 1, child, "held")
    assert in_flight(vendors, "StartMPUTask") == 1
    child.interrupt()
    child.wait_for_line("Press Ctrl-C again to abandon them")
    child.interrupt()
    code, out, err = child.finish()
    assert code == 130, err
    assert "interrupted: abandoned the calls in flight (MixTask/" in err
    assert "the next plan or apply asks the vendor first" in err
    # what finished before the abandoned call is printed, after the plan
    assert [line.split()[1] for line in finished(out)] == ["Layout/grid-2x2@ali-demo", "Layout/speaker-plus-3@ali-demo"]
    assert out.index("Plan: 4 to start") < out.index("  ok ")
    records = open_state(tmp_path / ".reconciler" / "state.db").records()
    [record] = [r for a, r in records.items() if a.startswith("MixTask/")]
    assert record.intent is not None and record.intent.operation == "create"  # uncertain, kept for the next run
    assert held(vendors, "StartMPUTask") == 1  # the apply ended while the vendor still held its call

    release_starts(vendors)
    wait_in_flight(vendors, "StartMPUTask", 0)  # the vendor finished the abandoned call: it did start the task
    assert actions(vendors, "aliyun")["StartMPUTask"] == 1 and len(running(vendors)) == 1
    plan = reconciler(capsys, "plan", str(example), "--detailed-exitcode")
    assert plan.code == 2 and "Plan: 1 to start, 0 to update, 0 to stop, 0 to resume, 3 unchanged" in plan.out
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    assert actions(vendors, "aliyun")["StartMPUTask"] == 2 and len(running(vendors)) == 2  # never started twice


def test_retries_say_what_they_wait_for(vendors: EmulatorCluster, example: Path, tmp_path: Path) -> None:
    # Aliyun answers, but only with transient errors (a refused connection is caught by preflight
    # before any retry: see tests/apply/test_write_outcomes.py)
    control(vendors, "aliyun", "faults", {"action": "CreateMPULayout", "type": "error", "code": "ServiceUnavailable",
                                          "status": 503})
    endpoints = tmp_path / "endpoints.json"  # the vendors' own, written by the fixture
    child = Child("apply", str(example), "--auto-approve", "--endpoints-file", str(endpoints), cwd=tmp_path)
    line = child.wait_for_line("waiting:")
    assert "ServiceUnavailable (transient), retry 1 in" in line
    child.interrupt()
    child.wait_for_line("Press Ctrl-C again")
    child.interrupt()
    code, _, err = child.finish()
    assert code == 130 and "Traceback" not in err
