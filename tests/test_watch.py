"""Watch mode's loop, driven with an injected sleep, clock and reconcile function (no vendors, no waiting)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply.connections import ConnectionOptions
from reconciler.apply.executor import ApplyEvents, ApplyResult, ChangeResult
from reconciler.cli import main
from reconciler.emulator.cluster import EmulatorCluster
from reconciler.endpoints import load_endpoints_file
from reconciler.errors import REJECTED, LockHeldError, ManifestError, ManifestErrors, VendorUnavailable
from reconciler.metrics import WatchMetrics
from reconciler.plan.planner import PlanOptions
from reconciler.plan.types import Action, Change, Plan
from reconciler.retry import RetryPolicy
from reconciler.secrets import REDACTOR, Secret
from reconciler.state import open_state
from reconciler.state.base import StateStore
from reconciler.watch import EventLog, Watcher, WatchOptions, parse_interval, scrub
from reconciler.workflow import ApplyOutcome, apply_manifests
from tests.cli.helpers import actions, copy_example
from tests.conftest import REPO, control

LAYOUT = """apiVersion: reconciler/v1
kind: Layout
metadata: {name: solo}
spec:
  canvas: {width: 1280, height: 720}
  panes:
    - {user: host, x: 0, y: 0, width: 1, height: 1}
"""


@pytest.mark.parametrize("text, seconds", [
    ("30s", 30), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("500ms", 0.5), ("1.5s", 1.5), ("90", 90), (" 2M ", 120),
])
def test_interval_parsing(text: str, seconds: float) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text, message", [
    ("soon", "invalid interval 'soon': expected a number with a unit, like 30s, 5m, 1h or 1h30m"),
    ("5 m", "invalid interval '5 m': expected a number with a unit, like 30s, 5m, 1h or 1h30m"),
    ("10d", "invalid interval '10d': expected a number with a unit, like 30s, 5m, 1h or 1h30m"),
    ("0s", "invalid interval '0s': it must be longer than zero"),
    ("-3", "invalid interval '-3': it must be longer than zero"),
])
def test_interval_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_interval(text)
    assert str(err.value) == message


def change(name: str, action: Action = Action.CREATE, *, drift: bool = False, verb: str = "start") -> Change:
    return Change(address=f"MixTask/{name}", kind="MixTask", name=name, provider="ali", vendor="aliyun",
                  action=action, before=None, after={"channel": name}, drift=drift, verb=verb,
                  reasons=("drift: the vendor reports it is not running (status 4); it will be started again",)
                  if drift else ("new",))


def plan_of(*changes: Change) -> Plan:
    return Plan(changes=changes, state_serial=1, manifest_fingerprint="f", created_at="2026-01-01T00:00:00Z")


Step = Callable[[Callable[[Plan], None], ApplyEvents], ApplyOutcome]


class FakeReconcile:
    """Plays one scripted step per run: a callable, or an exception to raise."""

    def __init__(self, *steps: Step | Exception) -> None:
        self.steps = list(steps)
        self.calls: list[PlanOptions] = []

    async def __call__(self, paths: Sequence[Path | str], store: StateStore, connection_options: ConnectionOptions,
                       options: PlanOptions, *, on_plan: Callable[[Plan], None],
                       on_result: ApplyEvents) -> ApplyOutcome:
        self.calls.append(options)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        return step(on_plan, on_result)


def quiet(on_plan: Callable[[Plan], None], on_result: ApplyEvents) -> ApplyOutcome:
    plan = plan_of(change("a", Action.NOOP))
    on_plan(plan)
    return ApplyOutcome(plan, None)


def repair(on_plan: Callable[[Plan], None], on_result: ApplyEvents) -> ApplyOutcome:
    plan = plan_of(change("a", drift=True), change("b", Action.UPDATE, verb="update-layout"))
    on_plan(plan)
    results = [ChangeResult("MixTask/a", "start", True, "done"),
               ChangeResult("MixTask/b", "update-layout", False, "aliyun UpdateMPULayout failed: InvalidTask.Stopped",
                            outcome=REJECTED)]
    for result in results:
        on_result(result)
    return ApplyOutcome(plan, ApplyResult(results))


class Harness:
    def __init__(self, reconcile: Any, *, interval: float = 10.0, jitter: float = 0.0, max_runs: int | None = 3,
                 max_backoff: float = 600.0, store: StateStore | None = None, paths: tuple[Path, ...] = (Path("m"),),
                 **extra: Any) -> None:
        self.out = io.StringIO()
        self.now = 1000.0
        self.delays: list[float] = []
        self.metrics = WatchMetrics()
        self.store = store or open_state("sqlite:///state.db")

        async def sleep(seconds: float) -> None:
            self.delays.append(seconds)
            self.now += seconds

        options = WatchOptions(paths, interval, jitter=jitter, max_runs=max_runs, max_backoff=max_backoff, **extra)
        self.watcher = Watcher(options, self.store, ConnectionOptions(), log=EventLog(self.out, lambda: self.now),
                               metrics=self.metrics, reconcile=reconcile, sleep=sleep, clock=lambda: self.now)

    def run(self) -> list[dict[str, Any]]:
        asyncio.run(self.watcher.run())
        return self.lines()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.getvalue().splitlines()]


def test_one_line_per_action_with_every_field() -> None:
    h = Harness(FakeReconcile(repair), max_runs=1)
    lines = h.run()
    assert [line["event"] for line in lines] == ["watch.started", "drift", "change", "change", "reconcile", "watch.stopped"]
    assert all(list(line) == ["time", "level", "event", "run", "address", "action", "outcome", "write", "message"]
               for line in lines)
    assert lines[0]["time"] == "1970-01-01T00:16:40.000Z"
    assert lines[1] == {"time": "1970-01-01T00:16:40.000Z", "level": "warning", "event": "drift", "run": 1,
                        "address": "MixTask/a", "action": "start", "outcome": "detected", "write": None,
                        "message": "drift: the vendor reports it is not running (status 4); it will be started again"}
    # a change speaks the metrics' vocabulary (success / failed), with how a failed write ended
    assert lines[2] == {**lines[2], "address": "MixTask/a", "outcome": "success", "write": None, "level": "info"}
    assert lines[3] == {**lines[3], "address": "MixTask/b", "action": "update-layout", "outcome": "failed",
                        "write": "rejected", "level": "error",
                        "message": "aliyun UpdateMPULayout failed: InvalidTask.Stopped"}
    assert lines[4] == {**lines[4], "outcome": "failed", "message": "1 change(s) applied, 1 failed"}


def test_metrics_count_runs_changes_vendor_calls_and_drift() -> None:
    h = Harness(FakeReconcile(repair, quiet, VendorUnavailable("aliyun", "Timeout", "no answer", action="observe")))
    h.run()
    m = h.metrics
    assert m.value("reconciler_reconcile_runs_total", {"outcome": "failed"}) == 1
    assert m.value("reconciler_reconcile_runs_total", {"outcome": "success"}) == 1
    assert m.value("reconciler_reconcile_runs_total", {"outcome": "error"}) == 1
    assert m.value("reconciler_changes_total", {"action": "create", "outcome": "success"}) == 1
    assert m.value("reconciler_changes_total", {"action": "update", "outcome": "failed"}) == 1
    assert m.value("reconciler_vendor_calls_total", {"vendor": "aliyun", "outcome": "success"}) == 1
    assert m.value("reconciler_vendor_calls_total", {"vendor": "aliyun", "outcome": "failed"}) == 2  # update + observe
    for outcome in ("failed", "success", "error"):  # one run each, timed by the injected clock
        assert m.value("reconciler_run_duration_seconds_count", {"outcome": outcome}) == 1
    assert m.value("reconciler_drift_detected_total", {"kind": "MixTask"}) == 1
    assert m.value("reconciler_last_success_timestamp_seconds") == 1000.0 + 20.0  # after run 2 (run 1 failed)
    assert m.value("reconciler_consecutive_failed_runs") == 1


def test_failed_runs_back_off_exponentially_and_success_resets() -> None:
    invalid = ManifestErrors([ManifestError("m/a.yaml", 3, 5, "unknown field 'layot'", "MixTask/a", "spec.layot")])
    h = Harness(FakeReconcile(invalid, invalid, invalid, LockHeldError("pid 7 on ci (apply, since x)"), quiet, quiet),
                interval=10, max_backoff=60, max_runs=6)
    lines = h.run()
    assert h.delays == [20, 40, 60, 60, 10]
    outcomes = [line["outcome"] for line in lines if line["event"] == "reconcile"]
    assert outcomes == ["invalid", "invalid", "invalid", "error", "success", "success"]
    invalid_lines = [line for line in lines if line["event"] == "manifest.invalid"]
    assert invalid_lines[0]["message"] == "m/a.yaml:3:5: MixTask/a: spec.layot: unknown field 'layot'"
    assert invalid_lines[0]["address"] == "MixTask/a" and invalid_lines[0]["level"] == "error"
    scheduled = [line["message"] for line in lines if line["event"] == "run.scheduled"]
    assert scheduled[0] == "next run in 20.0s (backoff after 1 failed run(s))"
    assert scheduled[-1] == "next run in 10.0s"
    locked = next(line for line in lines if line["outcome"] == "error")
    assert locked["message"].startswith("the state is locked by pid 7 on ci")


def test_waits_are_jittered_within_bounds() -> None:
    h = Harness(FakeReconcile(quiet), interval=60, jitter=0.1, max_runs=30)
    h.run()
    assert len(h.delays) == 29
    assert all(54 <= d <= 66 for d in h.delays)
    assert len(set(h.delays)) > 1


def test_backoff_never_exceeds_interval_when_interval_is_longer_than_max_backoff() -> None:
    h = Harness(FakeReconcile(RuntimeError("boom")), interval=3600, max_backoff=600, max_runs=3)
    lines = h.run()
    assert h.delays == [3600, 3600]
    assert lines[1]["message"] == "unexpected RuntimeError: boom"


def test_secrets_and_url_credentials_never_reach_the_log() -> None:
    REDACTOR.add([Secret("s3cr3t-value-42", "env:TEST_SECRET")])
    leak = VendorUnavailable("aliyun", "ConnectionError", "cannot reach https://user:tok3n@host/x with s3cr3t-value-42")
    h = Harness(FakeReconcile(leak), max_runs=1)
    lines = h.run()
    text = json.dumps(lines)
    assert "s3cr3t-value-42" not in text and "tok3n" not in text
    assert lines[1]["message"] == ("aliyun failed: ConnectionError: cannot reach https://***@host/x with ***")
    assert scrub("git@github.com:o/r.git ssh://git@host/r") == "git@github.com:o/r.git ssh://***@host/r"


def test_prune_is_passed_to_every_plan() -> None:
    fake = FakeReconcile(quiet)
    Harness(fake, max_runs=2, prune=True).run()
    assert fake.calls == [PlanOptions(prune=True), PlanOptions(prune=True)]


def test_stop_requested_during_a_run_finishes_it_and_releases_the_lock(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "layout.yaml").write_text(LAYOUT)
    store = open_state("sqlite:///state.db")
    seen: list[Any] = []

    async def reconcile(paths: Any, store: StateStore, connection_options: Any, options: Any, **kw: Any) -> ApplyOutcome:
        h.watcher.request_stop()  # as the SIGTERM handler does, in the middle of the run
        outcome = await apply_manifests(paths, store, connection_options, options, **kw)
        seen.append(store.lock_holder())
        return outcome

    h = Harness(reconcile, store=store, paths=(tmp_path / "m",), max_runs=None)
    lines = h.run()
    assert [line["event"] for line in lines] == ["watch.started", "watch.stopping", "reconcile", "watch.stopped"]
    assert lines[2]["outcome"] == "success" and h.delays == []
    assert seen == [None] and store.lock_holder() is None


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "test@example.invalid")


def test_git_pull_brings_new_manifests_and_a_failed_pull_keeps_the_checkout(tmp_path: Path, git_identity: None) -> None:
    origin = tmp_path / "origin"
    (origin / "m").mkdir(parents=True)
    (origin / "m" / "layout.yaml").write_text(LAYOUT)
    git(origin, "init", "-q", "-b", "main")
    git(origin, "add", ".")
    git(origin, "commit", "-q", "-m", "first")
    git(tmp_path, "clone", "-q", str(origin), "clone")
    second = LAYOUT.replace("name: solo", "name: duo")

    def commit_upstream(on_plan: Any, on_result: Any) -> ApplyOutcome:
        (origin / "m" / "second.yaml").write_text(second)
        git(origin, "add", ".")
        git(origin, "commit", "-q", "-m", "second")
        return quiet(on_plan, on_result)

    def break_upstream(on_plan: Any, on_result: Any) -> ApplyOutcome:
        git(tmp_path / "clone", "remote", "set-url", "origin", str(tmp_path / "gone"))
        return quiet(on_plan, on_result)

    files: list[list[str]] = []

    def record(on_plan: Any, on_result: Any) -> ApplyOutcome:
        files.append(sorted(p.name for p in (tmp_path / "clone" / "m").iterdir()))
        return quiet(on_plan, on_result)

    h = Harness(FakeReconcile(commit_upstream, record, break_upstream, record), git_pull=True,
                paths=(tmp_path / "clone" / "m",), max_runs=4)
    lines = h.run()
    assert files == [["layout.yaml", "second.yaml"], ["layout.yaml", "second.yaml"]]
    pulls = [line for line in lines if line["event"] == "git.pull"]
    assert [(p["run"], p["outcome"], p["level"]) for p in pulls] == [(2, "updated", "info"), (4, "failed", "warning")]
    assert pulls[1]["message"].startswith(f"git pull --ff-only in {tmp_path / 'clone'} failed (")
    assert pulls[1]["message"].endswith("); using the last good checkout")
    assert [line["outcome"] for line in lines if line["event"] == "reconcile"] == ["success"] * 4


def test_git_pull_outside_a_repository_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    with pytest.raises(Exception) as err:
        Harness(FakeReconcile(quiet), git_pull=True, paths=(tmp_path / "m",))
    assert str(err.value).startswith(f"--git-pull: {tmp_path / 'm'} is not inside a git repository (")


def test_sigterm_ends_the_command_cleanly(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "layout.yaml").write_text(LAYOUT)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "reconciler", "watch", "m", "--interval", "1h", "--state",
                             "sqlite:///state.db"], stderr=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stderr is not None
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()  # type: ignore[union-attr]
    events: list[str] = []
    try:
        while "run.scheduled" not in events:  # the first run is done and the loop sleeps for an hour
            events.append(json.loads(lines.get(timeout=30))["event"])
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
    while "watch.stopped" not in events:
        events.append(json.loads(lines.get(timeout=5))["event"])
    assert events == ["watch.started", "state.created", "reconcile", "run.scheduled", "watch.stopping",
                      "watch.stopped"]
    listing = subprocess.run([sys.executable, "-m", "reconciler", "state", "list", "--state", "sqlite:///state.db"],
                             capture_output=True, text=True, env=env, check=True)
    assert listing.stdout.strip() == "serial 0, 0 resource(s)"


def test_max_runs_exit_code_tells_how_the_last_run_went(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "layout.yaml").write_text(LAYOUT)
    codes = []
    for text in (LAYOUT, LAYOUT.replace("width: 1280", "width: 1")):
        (tmp_path / "m" / "layout.yaml").write_text(text)
        with pytest.raises(SystemExit) as done:
            main(["watch", "m", "--max-runs", "1", "--state", "sqlite:///state.db", "--log-to", "stdout"])
        codes.append(done.value.code)
    assert codes == [0, 1]
    last = [json.loads(line) for line in capsys.readouterr().out.splitlines()][-2]
    assert (last["event"], last["outcome"]) == ("reconcile", "invalid")


def test_interval_errors_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["watch", "m", "--interval", "soon"])
    assert done.value.code == 1
    assert "Invalid value for '--interval': invalid interval 'soon': expected a number with a unit" in capsys.readouterr().err


def test_a_rejected_vendor_write_is_logged_as_failed_with_its_write_outcome(vendors: EmulatorCluster,
                                                                             tmp_path: Path) -> None:
    example = copy_example("aliyun", tmp_path)
    control(vendors, "aliyun", "faults", {"action": "StartMPUTask", "type": "error", "code": "InvalidParameter",
                                          "status": 400})
    h = Harness(apply_manifests, paths=(example,), max_runs=1)
    h.watcher.connection_options = ConnectionOptions(endpoint_overrides=load_endpoints_file(None),
                                                     retry=RetryPolicy(attempts=1, base_delay=0.0, jitter=0.0))
    changes = [line for line in h.run() if line["event"] == "change"]
    assert sorted((c["address"], c["outcome"], c["write"]) for c in changes if c["address"].startswith("MixTask/")) == [
        ("MixTask/standup-grid", "failed", "rejected"), ("MixTask/townhall-live", "failed", "rejected")]
    layouts = [c for c in changes if c["address"].startswith("Layout/")]  # CreateMPULayout: not faulted
    assert layouts and all((c["outcome"], c["write"]) == ("success", None) for c in layouts)
    assert actions(vendors, "aliyun")["StartMPUTask"] == 2  # both were sent, and the vendor refused both
    assert control(vendors, "aliyun", "state")["tasks"] == {}
    assert h.metrics.value("reconciler_changes_total", {"action": "create", "outcome": "failed"}) == 2
