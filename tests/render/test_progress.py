"""The apply reporter: lines as changes finish, and on a terminal a live done/total, in-flight, ETA line."""

from __future__ import annotations

import io

from rich.console import Console

from reconciler.apply.executor import ChangeResult
from reconciler.plan.types import Action, Change, Plan
from reconciler.render.progress import ApplyReporter


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
