"""Apply output: printed off the event loop, so rendering overlaps the vendor calls, in the same order.

A stdout nobody reads yet (its writes wait on a gate) stands for rendering that takes long: the
gate opens only once the emulator holds the apply's first StartMPUTask. With the printing on the
event loop the apply would wait on its own output and never get there; the gate's wait is bounded
only so that such a regression fails instead of hanging. Nothing here measures time.
"""

from __future__ import annotations

import io
import sys
import threading
import time
from pathlib import Path

import click
import pytest

from reconciler import httplog
from reconciler.cli import main
from reconciler.commands.plan_apply import apply_output
from reconciler.emulator.cluster import EmulatorCluster
from reconciler.render.ordered import OrderedOutput
from tests.cli.helpers import actions, copy_example, run
from tests.conftest import control

BOUND = 30  # seconds; only a regression ever waits this long


class GatedStdout(io.StringIO):
    """A stdout whose writes wait until `gate` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.waited_out = False  # a write gave up waiting: whoever wrote was stuck behind its own output

    def write(self, text: str) -> int:
        if not self.gate.wait(BOUND):
            self.waited_out = True
            self.gate.set()  # once is enough to fail: let the rest of the run go on
        return super().write(text)


class VendorWatch(threading.Thread):
    """Opens the gate once the Aliyun emulator holds a StartMPUTask, then lets the vendor answer it."""

    def __init__(self, cluster: EmulatorCluster, stdout: GatedStdout) -> None:
        super().__init__(daemon=True)
        self.cluster, self.stdout = cluster, stdout
        self.saw_held_call = False

    def run(self) -> None:
        deadline = time.monotonic() + 2 * BOUND  # a bound for a broken run only
        while time.monotonic() < deadline:
            if control(self.cluster, "aliyun", "requests")["held"].get("StartMPUTask"):
                self.saw_held_call = True
                break
            time.sleep(0.02)
        self.stdout.gate.set()
        control(self.cluster, "aliyun", "release", {"action": "StartMPUTask"})


def apply_behind_a_gate(cluster: EmulatorCluster, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    """`reconciler apply ARGS` in this process with a gated stdout and the first StartMPUTask held."""
    control(cluster, "aliyun", "faults", {"action": "StartMPUTask", "type": "hold", "count": 1})
    stdout = GatedStdout()
    watch = VendorWatch(cluster, stdout)
    watch.start()
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stdout", stdout)
        try:
            main(["apply", *args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    watch.join(2 * BOUND)
    assert watch.saw_held_call, "the apply never reached the vendor"
    assert not stdout.waited_out, "the apply waited for its own output before its first vendor write"
    return code, stdout.getvalue()


def finished_lines(out: str) -> list[str]:
    return sorted(line for line in out.splitlines() if line.startswith("  ok "))


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return copy_example("aliyun", tmp_path)


def test_the_first_write_goes_out_while_the_plan_is_still_being_printed(
        vendors: EmulatorCluster, example: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    code, planned, _ = run(capsys, "plan", str(example))
    assert code == 0
    code, out = apply_behind_a_gate(vendors, monkeypatch, str(example), "--auto-approve")
    assert code == 0
    # the same output in the same order: the plan, each change as it finished, the summary
    assert out.startswith(planned)
    assert finished_lines(out) == sorted(
        ["  ok Layout/grid-2x2@ali-demo create-layout", "  ok Layout/speaker-plus-3@ali-demo create-layout",
         "  ok MixTask/townhall-live start", "  ok MixTask/standup-grid start"])
    assert out == planned + "".join(line for line in out[len(planned):].splitlines(keepends=True)
                                    if line.startswith("  ok ")) + "Apply: 4 succeeded, 0 failed\n"
    assert actions(vendors, "aliyun")["StartMPUTask"] == 2


def test_a_saved_plan_starts_applying_before_its_text_is_printed(
        vendors: EmulatorCluster, example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    saved = tmp_path / "plan.json"
    code, planned, _ = run(capsys, "plan", str(example), "--out", str(saved))
    assert code == 0
    code, out = apply_behind_a_gate(vendors, monkeypatch, str(saved))
    assert code == 0
    assert out.startswith(planned) and out.endswith("Apply: 4 succeeded, 0 failed\n")
    assert len(finished_lines(out)) == 4


def test_the_confirmation_is_asked_after_the_whole_plan_is_printed(
        vendors: EmulatorCluster, example: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    code, planned, _ = run(capsys, "plan", str(example))
    assert code == 0
    stdout = GatedStdout()  # opened only when someone waits for the output: it prints nothing on its own
    flush = OrderedOutput.flush

    def flushing(self: OrderedOutput) -> None:
        stdout.gate.set()
        flush(self)

    shown_at_the_question: list[str] = []

    def answer_no(text: str, default: bool = False) -> bool:
        shown_at_the_question.append(stdout.getvalue())
        return False

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    with monkeypatch.context() as patch:
        patch.setattr(OrderedOutput, "flush", flushing)
        patch.setattr(click, "confirm", answer_no)
        patch.setattr(sys, "stdin", Terminal())
        patch.setattr(sys, "stdout", stdout)
        with pytest.raises(SystemExit) as exited:
            main(["apply", str(example)])
    assert exited.value.code == 0
    assert shown_at_the_question == [planned]
    assert stdout.getvalue() == planned + "Nothing applied.\n" and not stdout.waited_out
    assert "StartMPUTask" not in actions(vendors, "aliyun")


@pytest.mark.parametrize(("verbosity", "background"), [(0, True), (1, False), (2, False)])
def test_with_v_the_output_is_printed_at_once_so_log_lines_keep_their_place(verbosity: int, background: bool) -> None:
    httplog.configure(verbosity)
    try:
        with apply_output() as output:
            printed_by: list[threading.Thread] = []
            output.submit(lambda: printed_by.append(threading.current_thread()))
            output.flush()
    finally:
        httplog.configure(0)
    assert (printed_by != [threading.current_thread()]) is background
