"""Apply as it happens: each change printed the moment it finishes, what the providers wait for
(retries, backoff), and on a terminal a live line with done/total, calls in flight and an ETA.

Without a terminal (CI logs, pipes) the same lines are printed plainly, one per event, flushed at
once so a log shows progress while the apply runs.

The reporter's methods are called on the event loop; they only note the counts and hand the printing
to an `OrderedOutput` (by default one that prints at once), so with a background output the loop
never renders. What a job prints is captured when the event happens, never read later.
"""

from __future__ import annotations

from functools import partial
from typing import IO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from reconciler.apply.executor import ApplyResult, ChangeResult
from reconciler.plan.types import Change, Plan
from reconciler.render.lines import StyledLines
from reconciler.render.ordered import OrderedOutput
from reconciler.render.text import console
from reconciler.safe_text import one_line
from reconciler.secrets import REDACTOR


class ApplyReporter:
    """Follows one apply: `begin`, then `started`/`finished` per change and `waiting` per retry."""

    def __init__(self, stream: IO[str] | None = None, *, out: Console | None = None,
                 output: OrderedOutput | None = None) -> None:
        self.out = out or console(stream)
        self.output = output or OrderedOutput(background=False)
        self.in_flight: dict[str, str] = {}  # address -> verb, in start order
        self.done = 0
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    @property
    def live(self) -> bool:
        return self.out.is_terminal

    def begin(self, plan: Plan) -> None:
        self.output.submit(partial(self._begin, len(plan.pending())))

    def started(self, change: Change) -> None:
        self.in_flight[change.address] = change.display_action
        self.output.submit(partial(self._update, self.done, len(self.in_flight)))

    def finished(self, result: ChangeResult) -> None:
        self.in_flight.pop(result.address, None)
        self.done += 1
        self.output.submit(partial(self._finished, result, self.done, len(self.in_flight)))

    def waiting(self, message: str) -> None:
        self.output.submit(lambda: self._print(StyledLines().line(
            "  ", ("waiting:", "yellow"), f" {one_line(REDACTOR(message))}")))

    def note(self, message: str) -> None:
        self.output.submit(lambda: self._print(StyledLines().line((one_line(message), "yellow"))))

    def end(self) -> None:
        """Take the live line down and wait until everything reported so far is printed."""
        self.output.submit(self._end)
        self.output.flush()

    # -- run by the output, in order --------------------------------------------------------------
    def _begin(self, total: int) -> None:
        if self.live and total:
            self._progress = Progress(
                TextColumn("[bold]applying[/]"), BarColumn(bar_width=20), MofNCompleteColumn(),
                TextColumn("done, {task.fields[flight]} in flight,"), TextColumn("ETA"), TimeRemainingColumn(),
                console=self.out, transient=True,
            )
            self._task = self._progress.add_task("apply", total=total, flight=0)
            self._progress.start()

    def _finished(self, result: ChangeResult, done: int, flight: int) -> None:
        mark: tuple[str | tuple[str, str], ...] = (("ok", "green"),) if result.ok else (
            ("FAILED", "red"), f" ({one_line(result.outcome)})" if result.outcome else "")  # not sent | rejected | unknown
        detail = "" if result.ok else f": {one_line(REDACTOR(result.message))}"
        self._print(StyledLines().line("  ", *mark, f" {one_line(result.address)} {one_line(result.verb)}{detail}"))
        self._update(done, flight)

    def _end(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _update(self, done: int, flight: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=done, flight=flight)
            self._progress.refresh()

    def _print(self, lines: StyledLines) -> None:
        self.out.print(lines)
        self.out.file.flush()


def render_summary(result: ApplyResult, out: Console) -> None:
    """The closing lines of an apply whose changes were already printed one by one."""
    failed = len(result.failed)
    lines = StyledLines()
    if result.not_started:
        lines.line(("Not started", "bold"), f" (interrupted): {one_line(', '.join(result.not_started))}")
    line = f" {len(result.results) - failed} succeeded, {failed} failed"
    if failed:  # how each failure ended at the vendor (see errors.outcome_of)
        counts = {o: sum(1 for r in result.failed if (r.outcome or "unknown") == o)
                  for o in ("not sent", "rejected", "unknown")}
        line += " (" + ", ".join(f"{n} {o}" for o, n in counts.items() if n) + ")"
    if result.not_started:
        line += f", {len(result.not_started)} not started"
    out.print(lines.line(("Apply:", "bold"), line))
