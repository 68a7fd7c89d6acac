"""The apply reporter: lines as changes finish, and on a terminal a live done/total, in-flight, ETA line."""

from __future__ import annotations

import io

from rich.console import Console

from reconciler.apply.executor import ApplyResult, ChangeResult
from reconciler.plan.types import Action, Change, Plan
from reconciler.render.ordered import OrderedOutput
from reconciler.render.progress import ApplyReporter, render_summary


def change(name: str) -> Change:
    return Change(address=f"MixTask/{name}", kind="MixTask", name=name, provider="ali", vendor="aliyun",
                  action=Action.CREATE, before=None, after={"channel": name}, verb="start")


PLAN = Plan(changes=tuple(change(n) for n in ("a", "b", "c")), state_serial=0, manifest_fingerprint="",
            created_at="2026-01-01T00:00:00Z")


def test_on_a_terminal_a_live_line_shows_done_total_in_flight_and_eta() -> None:
    screen = io.StringIO()
    reporter = ApplyReporter(out=Console(file=screen, force_terminal=True, width=120, no_color=True))
    reporter.begin(PLAN)
    reporter.started(PLAN.changes[0])
    reporter.started(PLAN.changes[1])
    reporter.finished(ChangeResult("MixTask/a", "start", True, "done"))
    shown = screen.getvalue()
    reporter.end()
    assert "ok MixTask/a start" in shown
    assert "1/3 done, 1 in flight, ETA" in shown


def test_without_a_terminal_only_plain_lines_are_printed() -> None:
    log = io.StringIO()
    reporter = ApplyReporter(log)
    reporter.begin(PLAN)
    reporter.started(PLAN.changes[0])
    reporter.waiting("StartMPUTask t-1: ConnectionError (transient), retry 1 in 0.5s")
    reporter.finished(ChangeResult("MixTask/a", "start", False, "aliyun StartMPUTask failed: X: y"))
    reporter.end()
    assert log.getvalue() == ("  waiting: StartMPUTask t-1: ConnectionError (transient), retry 1 in 0.5s\n"
                              "  FAILED MixTask/a start: aliyun StartMPUTask failed: X: y\n")


def test_the_reporter_lines_in_colour_are_pinned_byte_for_byte() -> None:
    screen = io.StringIO()
    reporter = ApplyReporter(out=Console(file=screen, force_terminal=True, no_color=False, width=120, highlight=False,
                                         soft_wrap=True, emoji=False))
    results = [ChangeResult("MixTask/a", "start", True, "done"),
               ChangeResult("MixTask/b", "stop", False, "aliyun StopMPUTask failed: [x] y", outcome="rejected")]
    for result in results:
        reporter.finished(result)
    reporter.waiting("StartMPUTask t-1: ConnectionError (transient), retry 1 in 0.5s")
    reporter.note("Interrupt: starting no new change")
    render_summary(ApplyResult(results=results, not_started=["MixTask/c"]), reporter.out)
    assert screen.getvalue() == (
        "  \x1b[32mok\x1b[0m MixTask/a start\n"
        "  \x1b[31mFAILED\x1b[0m (rejected) MixTask/b stop: aliyun StopMPUTask failed: [x] y\n"
        "  \x1b[33mwaiting:\x1b[0m StartMPUTask t-1: ConnectionError (transient), retry 1 in 0.5s\n"
        "\x1b[33mInterrupt: starting no new change\x1b[0m\n"
        "\x1b[1mNot started\x1b[0m (interrupted): MixTask/c\n"
        "\x1b[1mApply:\x1b[0m 1 succeeded, 1 failed (1 rejected), 1 not started\n")


def test_with_a_background_output_the_lines_come_in_the_order_of_the_events() -> None:
    log = io.StringIO()
    with OrderedOutput() as output:
        reporter = ApplyReporter(log, output=output)
        reporter.begin(PLAN)
        for name in ("a", "b", "c"):
            reporter.started(change(name))
        reporter.finished(ChangeResult("MixTask/b", "start", True, "done"))
        reporter.waiting("StartMPUTask t-1: ConnectionError (transient), retry 1 in 0.5s")
        reporter.finished(ChangeResult("MixTask/a", "start", True, "done"))
        reporter.note("Interrupt: starting no new change")
        reporter.finished(ChangeResult("MixTask/c", "start", True, "done"))
        assert reporter.done == 3 and not reporter.in_flight  # counted at once, on the caller's thread
        reporter.end()  # waits for the output: everything reported is printed when it returns
        assert log.getvalue() == ("  ok MixTask/b start\n"
                                  "  waiting: StartMPUTask t-1: ConnectionError (transient), retry 1 in 0.5s\n"
                                  "  ok MixTask/a start\n"
                                  "Interrupt: starting no new change\n"
                                  "  ok MixTask/c start\n")


def test_on_a_terminal_the_live_line_works_with_a_background_output() -> None:
    screen = io.StringIO()
    with OrderedOutput() as output:
        reporter = ApplyReporter(out=Console(file=screen, force_terminal=True, width=120, no_color=True), output=output)
        reporter.begin(PLAN)
        reporter.started(PLAN.changes[0])
        reporter.started(PLAN.changes[1])
        reporter.finished(ChangeResult("MixTask/a", "start", True, "done"))
        output.flush()
        shown = screen.getvalue()
        reporter.end()
    assert "ok MixTask/a start" in shown
    assert "1/3 done, 1 in flight, ETA" in shown
