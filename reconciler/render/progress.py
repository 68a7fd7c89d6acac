"""Apply as it happens: each change printed the moment it finishes, what the providers wait for
(retries, backoff), and on a terminal a live line with done/total, calls in flight and an ETA.

Without a terminal (CI logs, pipes) the same lines are printed plainly, one per event, flushed at
once so a log shows progress while the apply runs.
"""

from __future__ import annotations

from typing import IO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from reconciler.apply.executor import ApplyResult, ChangeResult
from reconciler.plan.types import Change, Plan
from reconciler.render.text import console, escape
from reconciler.secrets import REDACTOR


class ApplyReporter:
    """Follows one apply: `begin`, then `started`/`finished` per change and `waiting` per retry."""

    def __init__(self, stream: IO[str] | None = None, *, out: Console | None = None) -> None:
        self.out = out or console(stream)
        self.in_flight: dict[str, str] = {}  # address -> verb, in start order
        self.done = 0
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    @property
    def live(self) -> bool:
        return self.out.is_terminal

    def begin(self, plan: Plan) -> None:
        total = len(plan.pending())
        if self.live and total:
            self._progress = Progress(
                TextColumn("[bold]applying[/]"), BarColumn(bar_width=20), MofNCompleteColumn(),
                TextColumn("done, {task.fields[flight]} in flight,"), TextColumn("ETA"), TimeRemainingColumn(),
                console=self.out, transient=True,
            )
            self._task = self._progress.add_task("apply", total=total, flight=0)
            self._progress.start()

    def started(self, change: Change) -> None:
        self.in_flight[change.address] = change.display_action
        self._update()

    def finished(self, result: ChangeResult) -> None:
        self.in_flight.pop(result.address, None)
        self.done += 1
        how = f" ({escape(result.outcome)})" if result.outcome else ""  # not sent | rejected | unknown
        mark = "[green]ok[/]" if result.ok else f"[red]FAILED[/]{how}"
        detail = "" if result.ok else f": {escape(REDACTOR(result.message))}"
        self._print(f"  {mark} {escape(result.address)} {escape(result.verb)}{detail}")
        self._update()

    def waiting(self, message: str) -> None:
        self._print(f"  [yellow]waiting:[/] {escape(REDACTOR(message))}")

    def note(self, message: str) -> None:
        self._print(f"[yellow]{escape(message)}[/]")

    def end(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _update(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=self.done, flight=len(self.in_flight))
            self._progress.refresh()

    def _print(self, markup: str) -> None:
        self.out.print(markup)
        self.out.file.flush()


def render_summary(result: ApplyResult, out: Console) -> None:
    """The closing lines of an apply whose changes were already printed one by one."""
    failed = len(result.failed)
    if result.not_started:
        out.print(f"[bold]Not started[/] (interrupted): {escape(', '.join(result.not_started))}")
    line = f"[bold]Apply:[/] {len(result.results) - failed} succeeded, {failed} failed"
    if failed:  # how each failure ended at the vendor (see errors.outcome_of)
        counts = {o: sum(1 for r in result.failed if (r.outcome or "unknown") == o)
                  for o in ("not sent", "rejected", "unknown")}
        line += " (" + ", ".join(f"{n} {o}" for o, n in counts.items() if n) + ")"
    if result.not_started:
        line += f", {len(result.not_started)} not started"
    out.print(line)
