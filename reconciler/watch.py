"""Watch mode: reconcile on an interval, the way a GitOps agent does.

Each run re-reads the manifests (after `git pull --ff-only` when asked), plans, applies with auto
approval and so repairs drift, all through `reconciler.workflow.apply_manifests`: this module owns
the schedule, the log and the counters, never plan or apply logic. The rules it keeps:

- a broken manifest set is never applied: it is logged and the run counts as failed;
- a failed run (manifest errors, vendor or state errors, or any change that failed) makes the
  next wait double from the interval up to `max_backoff`; a successful run resets it; every wait
  is jittered so a fleet of agents does not call a vendor in step;
- a stop request (SIGTERM/SIGINT in the CLI) lets the run in flight finish, so its lock is released
  and every vendor write in it is recorded; then the loop ends;
- one JSON line per event: `time, level, event, run, address, action, outcome, write, message`, the
  outcome in the metrics' vocabulary (success | failed | error | invalid, or what an event observed),
  `write` how a failed change's vendor write ended (not-sent | rejected | unknown), the message
  passed through the secret redactor (and URL credentials masked).

Sleep, clock, random source, git and the reconcile function are injected so tests drive the loop
without waiting and without vendors.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import subprocess
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Protocol

from reconciler.apply.connections import ConnectionOptions
from reconciler.apply.executor import ApplyEvents, ChangeResult
from reconciler.errors import ManifestErrors, ReconcilerError, VendorError
from reconciler.metrics import WatchMetrics, WatchStatus
from reconciler.plan.planner import PlanOptions
from reconciler.plan.types import Action, Change, Plan
from reconciler.retry import RetryPolicy
from reconciler.safe_text import printable
from reconciler.secrets import REDACTOR
from reconciler.state.base import StateStore
from reconciler.workflow import ApplyOutcome, apply_manifests

DEFAULT_JITTER = 0.1
DEFAULT_MAX_BACKOFF = 600.0
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


def parse_interval(text: str) -> float:
    """`30s`, `5m`, `1h`, `1h30m`, `500ms` or a bare number of seconds -> seconds (> 0)."""
    value = text.strip().lower()
    try:
        seconds = float(value)
    except ValueError:
        parts = _DURATION.findall(value)
        if not parts or "".join(n + u for n, u in parts) != value:
            raise ValueError(
                f"invalid interval {text!r}: expected a number with a unit, like 30s, 5m, 1h or 1h30m"
            ) from None
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if not seconds > 0:
        raise ValueError(f"invalid interval {text!r}: it must be longer than zero")
    return seconds


def scrub(text: str) -> str:
    """Text safe to log: known secret values masked, user:password@ removed from URLs, control and bidi
    characters escaped."""
    return printable(_URL_CREDENTIALS.sub(r"\1***@", REDACTOR(text)))


class EventLog:
    """Writes one JSON object per line; every field is always present (null when not applicable)."""

    def __init__(self, stream: IO[str], clock: Callable[[], float] = time.time) -> None:
        self.stream = stream
        self.clock = clock

    def __call__(self, event: str, *, level: str = "info", run: int | None = None, address: str | None = None,
                 action: str | None = None, outcome: str | None = None, write: str | None = None,
                 message: str = "") -> None:
        stamp = datetime.fromtimestamp(self.clock(), timezone.utc).isoformat(timespec="milliseconds")
        line = {"time": stamp.replace("+00:00", "Z"), "level": level, "event": event, "run": run,
                "address": address, "action": action, "outcome": outcome, "write": write, "message": scrub(message)}
        self.stream.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.stream.flush()


# ---------------------------------------------------------------------------------------- git
GitRunner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def run_git(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run git without ever waiting for a password prompt."""
    env = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "LC_ALL": "C"}
    return subprocess.run(["git", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env}, check=False)


def repositories(paths: Sequence[Path], git: GitRunner = run_git) -> list[Path]:
    """The git work trees holding `paths`; a path outside any repository is an error."""
    found: list[Path] = []
    for path in paths:
        directory = path if path.is_dir() else path.parent
        done = git(["-C", str(directory), "rev-parse", "--show-toplevel"])
        if done.returncode != 0:
            raise ReconcilerError(f"--git-pull: {path} is not inside a git repository ({done.stderr.strip()})")
        top = Path(done.stdout.strip())
        if top not in found:
            found.append(top)
    return found


@dataclass(frozen=True)
class PullResult:
    repository: Path
    ok: bool
    before: str = ""
    after: str = ""
    message: str = ""


def pull(repository: Path, git: GitRunner = run_git) -> PullResult:
    """`git pull --ff-only`; on failure the work tree is left as it was (the last good checkout)."""
    def head() -> str:
        done = git(["-C", str(repository), "rev-parse", "HEAD"])
        return done.stdout.strip() if done.returncode == 0 else ""

    before = head()
    try:
        done = git(["-C", str(repository), "pull", "--ff-only", "--quiet"])
    except (OSError, subprocess.TimeoutExpired) as exc:
        return PullResult(repository, False, before, before, f"{exc.__class__.__name__}: {exc}")
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        return PullResult(repository, False, before, before, detail[-1] if detail else f"exit {done.returncode}")
    return PullResult(repository, True, before, head())


# -------------------------------------------------------------------------------------- loop
class Reconcile(Protocol):
    def __call__(self, paths: Sequence[Path | str], store: StateStore, connection_options: ConnectionOptions,
                 options: PlanOptions, *, on_plan: Callable[[Plan], None],
                 on_result: ApplyEvents) -> Awaitable[ApplyOutcome]: ...


@dataclass(frozen=True)
class WatchOptions:
    paths: tuple[Path, ...]
    interval: float
    jitter: float = DEFAULT_JITTER  # +/- share of each wait
    max_backoff: float = DEFAULT_MAX_BACKOFF
    git_pull: bool = False
    prune: bool = False
    max_runs: int | None = None  # stop after this many runs (tests, cron-like use)

    @property
    def backoff(self) -> RetryPolicy:
        return RetryPolicy(base_delay=self.interval, factor=2.0, max_delay=max(self.interval, self.max_backoff),
                           jitter=self.jitter)


@dataclass
class RunReport:
    """What one run did; `outcome` is success | failed (a change failed) | error | invalid (manifests)."""

    run: int
    outcome: str = "success"
    applied: int = 0
    failed: int = 0
    drift: int = 0
    message: str = ""
    changes: dict[str, Change] = field(default_factory=dict)
    started_at: float | None = None


class Watcher:
    def __init__(
        self,
        options: WatchOptions,
        store: StateStore,
        connection_options: ConnectionOptions,
        *,
        log: EventLog,
        metrics: WatchMetrics | None = None,
        status: WatchStatus | None = None,
        reconcile: Reconcile = apply_manifests,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        git: GitRunner = run_git,
    ) -> None:
        self.options = options
        self.store = store
        self.connection_options = connection_options
        self.log = log
        self.metrics = metrics
        self.clock = clock
        self.status = status or WatchStatus(started_at=clock(), interval=options.interval)
        self.reconcile = reconcile
        self.rng = rng or random.Random()
        self.git = git
        self._sleep = sleep or self._interruptible_sleep
        self._stop = asyncio.Event()
        self.runs = 0
        self.failures = 0  # consecutive failed runs
        self.last_report: RunReport | None = None
        self.repositories = repositories(options.paths, git) if options.git_pull else []

    # -- control ----------------------------------------------------------------------------
    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Ask the loop to end after the run in flight (safe from a signal handler)."""
        if not self._stop.is_set():
            self.log("watch.stopping", run=self.runs or None,
                     message="stop requested; finishing the run in flight, then exiting")
        self._stop.set()

    async def _interruptible_sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    def next_delay(self) -> float:
        """The interval with jitter after a success; exponential backoff after failures."""
        if self.failures:
            return self.options.backoff.delay(self.failures + 1, self.rng)
        spread = self.options.interval * self.options.jitter
        return max(0.0, self.options.interval + self.rng.uniform(-spread, spread))

    async def run(self) -> None:
        paths = ", ".join(str(p) for p in self.options.paths)
        self.log("watch.started", message=f"watching {paths} every {self.options.interval:g}s"
                 + (" (git pull --ff-only first)" if self.options.git_pull else ""))
        while not self.stopping:
            report = await self.run_once()
            if self.options.max_runs is not None and self.runs >= self.options.max_runs:
                break
            if self.stopping:
                break
            delay = self.next_delay()
            self.log("run.scheduled", run=report.run, outcome=report.outcome,
                     message=f"next run in {delay:.1f}s"
                     + (f" (backoff after {self.failures} failed run(s))" if self.failures else ""))
            await self._sleep(delay)
        self.log("watch.stopped", run=self.runs or None, message=f"stopped after {self.runs} run(s)")

    # -- one run -----------------------------------------------------------------------------
    async def run_once(self) -> RunReport:
        self.runs += 1
        report = RunReport(self.runs, started_at=self.clock())
        if self.options.git_pull:
            self._pull(report.run)
        try:
            outcome = await self.reconcile(
                self.options.paths, self.store, self.connection_options, PlanOptions(prune=self.options.prune),
                on_plan=lambda plan: self._planned(plan, report),
                on_result=lambda result: self._applied(result, report),
            )
        except ManifestErrors as exc:
            report.outcome = "invalid"
            for error in exc.errors:
                self.log("manifest.invalid", level="error", run=report.run, address=error.resource or None,
                         outcome="invalid", message=str(error))
            report.message = f"{len(exc.errors)} problem(s) in the manifests; nothing was applied"
        except VendorError as exc:
            report.outcome, report.message = "error", str(exc)
            if self.metrics is not None:
                self.metrics.vendor_call(exc.vendor, "failed")
        except ReconcilerError as exc:
            report.outcome, report.message = "error", str(exc)
        except Exception as exc:  # noqa: BLE001  (an agent must outlive a bug in one run; the log says what broke)
            report.outcome, report.message = "error", f"unexpected {exc.__class__.__name__}: {exc}"
        else:
            for message in outcome.recovered:
                self.log("recovered", level="warning", run=report.run, message=message)
            if report.failed:
                report.outcome = "failed"
            report.message = self._summary(report, outcome)
        self._finish(report)
        self.last_report = report
        return report

    def _pull(self, run: int) -> None:
        for repository in self.repositories:
            result = pull(repository, self.git)
            if not result.ok:
                self.log("git.pull", level="warning", run=run, outcome="failed",
                         message=f"git pull --ff-only in {repository} failed ({result.message}); "
                                 "using the last good checkout")
            elif result.before != result.after:
                self.log("git.pull", run=run, outcome="updated",
                         message=f"{repository}: {result.before[:12]} -> {result.after[:12]}")

    def _planned(self, plan: Plan, report: RunReport) -> None:
        for change in plan.changes:
            report.changes[change.address] = change
            if change.drift:
                report.drift += 1
                if self.metrics is not None:
                    self.metrics.drift(change.kind)
                self.log("drift", level="warning", run=report.run, address=change.address,
                         action=change.display_action, outcome="detected", message="; ".join(change.reasons))
        for warning in plan.warnings:
            self.log("plan.warning", level="warning", run=report.run, message=warning)

    def _applied(self, result: ChangeResult, report: RunReport) -> None:
        change = report.changes.get(result.address)
        outcome = "success" if result.ok else "failed"  # the metrics' vocabulary, in the log too
        if result.ok:
            report.applied += 1
        else:
            report.failed += 1
        if self.metrics is not None and change is not None:
            self.metrics.change(change.action.value, outcome)
            if change.action is not Action.FORGET:  # forgetting makes no vendor call
                self.metrics.vendor_call(change.vendor, outcome)
        write = result.outcome.replace(" ", "-") if not result.ok and result.outcome else None
        self.log("change", level="info" if result.ok else "error", run=report.run, address=result.address,
                 action=result.verb, outcome=outcome, write=write, message=result.message)

    @staticmethod
    def _summary(report: RunReport, outcome: ApplyOutcome) -> str:
        if outcome.result is None:
            return "no changes"
        text = f"{report.applied} change(s) applied"
        return text + (f", {report.failed} failed" if report.failed else "")

    def _finish(self, report: RunReport) -> None:
        now = self.clock()
        ok = report.outcome == "success"
        self.failures = 0 if ok else self.failures + 1
        self.status.record(report.outcome, now, self.failures)
        if self.metrics is not None:
            took = None if report.started_at is None else now - report.started_at
            self.metrics.run(report.outcome, now, took)
        self.log("reconcile", level="info" if ok else "error", run=report.run, outcome=report.outcome,
                 message=report.message)
