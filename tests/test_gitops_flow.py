"""A manifests repository evolving over several commits, planned and applied at each step, then kept
by watch mode: the agent pulls new commits and repairs drift injected at the vendor."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.cli import main
from reconciler.emulator.cluster import EmulatorCluster
from reconciler.state import open_state
from tests.conftest import REPO, control

HEADER = "apiVersion: reconciler/v1\n"
PROVIDERS = HEADER + """kind: Provider
metadata: {name: ali}
spec:
  vendor: aliyun
  appId: demo-aliyun-app
  credentials: {accessKeyId: {env: ALIYUN_ACCESS_KEY_ID}, accessKeySecret: {env: ALIYUN_ACCESS_KEY_SECRET}}
---
""" + HEADER + """kind: Provider
metadata: {name: arc}
spec:
  vendor: anyrtc
  appId: demo-anyrtc-app
  credentials: {customerId: {env: ANYRTC_CUSTOMER_ID}, customerSecret: {env: ANYRTC_CUSTOMER_SECRET}}
"""
LAYOUT = HEADER + """kind: Layout
metadata: {name: stage}
spec:
  canvas: {width: 1280, height: 720}
  panes:
    - {user: "1001", x: 0, y: 0, width: 0.75, height: 1}
    - {user: "1002", x: 0.75, y: 0, width: 0.25, height: 0.5}
"""
MOVED_LAYOUT = LAYOUT.replace('{user: "1002", x: 0.75, y: 0,', '{user: "1002", x: 0.75, y: 0.5,')


def task(name: str) -> str:
    return HEADER + f"""kind: MixTask
metadata: {{name: {name}}}
spec:
  provider: ali
  channel: {name}
  layout: stage
  output: {{streamUrl: "rtmp://push.example.com/live/{name}"}}
"""


RECORDING = HEADER + """kind: Recording
metadata: {name: keynote-archive}
spec:
  provider: arc
  channel: keynote
  layout: stage
  storage:
    vendor: aws-s3
    region: US_EAST_1
    bucket: archive
    accessKey: {env: ANYRTC_STORAGE_ACCESS_KEY}
    secretKey: {env: ANYRTC_STORAGE_SECRET_KEY}
"""


class Repo:
    def __init__(self, path: Path) -> None:
        self.path = path
        (path / "manifests").mkdir(parents=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.path, capture_output=True, text=True, check=True).stdout

    def commit(self, message: str, files: dict[str, str | None]) -> None:
        for name, text in files.items():
            target = self.path / "manifests" / name
            if text is None:
                target.unlink()
            else:
                target.write_text(text, encoding="utf-8")
        self.git("add", "-A", "manifests")
        self.git("commit", "-q", "-m", message)


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str], paths: list[str], state: str) -> None:
        self.capsys, self.paths, self.state = capsys, paths, state

    def __call__(self, command: str, *extra: str) -> tuple[int, str]:
        self.capsys.readouterr()
        try:
            main([command, *self.paths, "--state", self.state, *extra])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out = self.capsys.readouterr()
        return code, out.out + out.err

    def step(self, *flags: str, expect: str) -> str:
        """plan says changes (2), apply makes them (0), and the next plan has none (0)."""
        code, plan = self("plan", "--detailed-exitcode", *flags)
        assert code == 2, plan
        assert expect in plan
        code, out = self("apply", "--auto-approve", *flags)
        assert code == 0, out
        code, out = self("plan", "--detailed-exitcode", *flags)
        assert code == 0, out
        return plan


@pytest.fixture
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "test@example.invalid")


def requests_of(cluster: EmulatorCluster, vendor: str, action: str) -> int:
    return sum(control(cluster, vendor, "requests")["actions"].get(action, {}).values())


def test_a_repository_evolving_commit_by_commit(vendors: EmulatorCluster, capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path, git_identity: None) -> None:
    origin = Repo(tmp_path / "origin")
    state = f"sqlite:///{tmp_path / 'state.db'}"
    cli = Cli(capsys, [str(origin.path / "manifests")], state)

    origin.commit("an Aliyun account, a layout and the keynote mix",
                  {"providers.yaml": PROVIDERS, "layout.yaml": LAYOUT, "keynote.yaml": task("keynote")})
    cli.step(expect="2 to start")  # the task and its custom Aliyun layout

    origin.commit("add a task", {"panel.yaml": task("panel")})
    plan = cli.step(expect="1 to start")
    assert "MixTask/panel" in plan

    updates = requests_of(vendors, "aliyun", "UpdateMPULayout") + requests_of(vendors, "aliyun", "UpdateMPUTask")
    origin.commit("change the layout", {"layout.yaml": MOVED_LAYOUT})
    cli.step(expect="3 to update")  # the custom layout (ModifyMPULayout), then both tasks
    after = requests_of(vendors, "aliyun", "UpdateMPULayout") + requests_of(vendors, "aliyun", "UpdateMPUTask")
    assert after == updates + 2  # in place: no task was stopped or restarted

    origin.commit("remove a task", {"panel.yaml": None})
    code, out = cli("plan", "--detailed-exitcode")
    assert "orphaned" in out and "--prune" in out  # listed, but only --prune stops it
    cli.step("--prune", expect="1 to stop")
    aliyun = control(vendors, "aliyun", "state")["tasks"].values()
    assert sorted((t["params"]["ChannelId"], t["status"]) for t in aliyun) == [("keynote", 1), ("panel", 3)]

    origin.commit("add a recording", {"recording.yaml": RECORDING})
    cli.step(expect="1 to start")
    recordings = control(vendors, "anyrtc", "state")["tasks"]["recordings"]
    assert [r["cname"] for r in recordings] == ["keynote"]

    # -- the agent: a clone kept up to date with git pull, reconciled every second ------------------
    subprocess.run(["git", "clone", "-q", str(origin.path), str(tmp_path / "agent")], check=True)
    agent = Watch([str(tmp_path / "agent" / "manifests")], state)
    try:
        agent.until(lambda line: line["event"] == "reconcile")
        origin.commit("a task added while the agent runs", {"late.yaml": task("late")})
        started = agent.until(lambda line: line["event"] == "change" and line["address"] == "MixTask/late")
        assert started["outcome"] == "success" and started["write"] is None

        keynote = open_state(state.removeprefix("sqlite:///")).get("MixTask/keynote")
        assert keynote is not None
        control(vendors, "aliyun", "drift", {"taskId": keynote.handles["TaskId"], "status": 4})
        control(vendors, "aliyun", "clock", {"advance": 11})  # past the StreamURL reuse window
        injected_after = agent.last_run
        drift = agent.until(lambda line: line["event"] == "drift" and line["address"] == "MixTask/keynote")
        repaired = agent.until(lambda line: line["event"] == "change" and line["address"] == "MixTask/keynote")
        assert repaired["outcome"] == "success" and repaired["action"] == "start"
        assert drift["run"] == repaired["run"] <= injected_after + 2  # within two intervals
        metrics = httpx.get(f"{agent.metrics_url}/metrics", timeout=5).text
        assert 'reconciler_drift_detected_total{kind="MixTask"} 1.0' in metrics
        agent.until(lambda line: line["event"] == "reconcile" and line["run"] == repaired["run"])
        assert httpx.get(f"{agent.metrics_url}/healthz", timeout=5).status_code == 200
    finally:
        agent.stop()
    assert agent.returncode == 0
    running = sorted(t["params"]["ChannelId"] for t in control(vendors, "aliyun", "state")["tasks"].values()
                     if t["status"] == 1)
    assert running == ["keynote", "late"]
    for tree in (origin.path, tmp_path / "agent"):  # the agent pulled every commit: both agree with the vendor
        cli.paths = [str(tree / "manifests")]
        code, out = cli("plan", "--detailed-exitcode")
        assert code == 0, out


class Watch:
    """`reconciler watch --git-pull --interval 1s` in a subprocess, its JSON log read line by line."""

    def __init__(self, paths: list[str], state: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "watch", *paths, "--state", state, "--interval", "1s",
             "--jitter", "0", "--git-pull", "--metrics-port", "0"],
            stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()
        serving = self.until(lambda line: line["event"] == "metrics.serving")
        self.metrics_url = serving["message"].split("metrics at ", 1)[1].split("/metrics", 1)[0]
        self.returncode: int | None = None

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)

    @property
    def last_run(self) -> int:
        return max((line["run"] for line in self.seen if line["event"] == "reconcile"), default=0)

    def until(self, wanted: Any, timeout: float = 30.0) -> dict[str, Any]:
        """The next log line matching `wanted` (bounded: a missing line fails the test, never hangs it)."""
        for line in self.seen:
            if wanted(line) and not line.get("_taken"):
                line["_taken"] = True
                return line
        while True:
            try:
                raw = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"watch never logged the expected line; it logged: {self.seen}") from None
            line = json.loads(raw)
            self.seen.append(line)
            if wanted(line):
                line["_taken"] = True
                return line

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(timeout=30)
        finally:
            self.proc.kill()
