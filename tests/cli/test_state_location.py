"""Operator traps around the state: where it lives, when it is created, forgetting jobs, the lock.

A new state means "start everything again", so creating one is never silent; read-only commands
never create anything; a bare path is refused where a URL is expected.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.emulator.cluster import EmulatorCluster
from reconciler.state import LockInfo, open_state
from tests.cli.helpers import actions, copy_example, reconciler, tasks
from tests.conftest import REPO


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return copy_example("aliyun", tmp_path)


def test_plan_without_a_state_plans_against_an_empty_one_and_creates_nothing(
        vendors: EmulatorCluster, example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nested = tmp_path / "deep" / "er" / "state.db"
    for args in ((), ("--state", f"sqlite:///{nested}")):
        result = reconciler(capsys, "plan", str(example), *args)
        assert result.code == 0, result.err
        where = nested if args else tmp_path / ".reconciler" / "state.db"
        assert f"note: no state at {where}: using an empty state, and creating nothing." in result.err
        assert "+ MixTask/townhall-live  start" in result.out
    assert not (tmp_path / ".reconciler").exists() and not (tmp_path / "deep").exists()
    for command in (("state", "list"), ("state", "show", "MixTask/townhall-live")):
        reconciler(capsys, *command, "--state", f"sqlite:///{nested}")
    assert not (tmp_path / "deep").exists()
    assert actions(vendors, "aliyun")["StartMPUTask"] == 0


def test_a_run_that_creates_the_state_says_where(vendors: EmulatorCluster, example: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    result = reconciler(capsys, "apply", str(example), "--auto-approve")
    assert result.code == 0, result.err
    assert (f"note: no state existed at {tmp_path}/.reconciler/state.db; created a new, empty state there."
            in result.err)
    again = reconciler(capsys, "apply", str(example), "--auto-approve")
    assert "note:" not in again.err


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_bare_path_is_refused_with_the_url_to_use(how: str, example: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    if how == "environment":
        monkeypatch.setenv("RECONCILER_STATE", "foo")
        result = reconciler(capsys, "apply", str(example), "--auto-approve")
    else:
        result = reconciler(capsys, "apply", str(example), "--auto-approve", "--state", "foo")
    assert result.code == 1
    assert result.err == ("error: --state (or RECONCILER_STATE) takes a URL, not a path: 'foo' would be a new "
                          f"state file; for that file use --state sqlite:///{tmp_path}/foo\n")
    assert not (tmp_path / "foo").exists()


def test_a_zero_byte_state_file_is_an_error(vendors: EmulatorCluster, example: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / ".reconciler" / "state.db"
    empty.parent.mkdir()
    empty.touch()
    for command in ("plan", "apply"):
        result = reconciler(capsys, command, str(example), "--auto-approve"
                            ) if command == "apply" else reconciler(capsys, command, str(example))
        assert result.code == 1
        assert result.err.startswith(f"error: the state file {empty} is empty (0 bytes)")
    assert empty.stat().st_size == 0
    assert actions(vendors, "aliyun")["StartMPUTask"] == 0


def test_state_rm_forgets_a_job_without_stopping_it(vendors: EmulatorCluster, example: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    task_id = open_state(Path(".reconciler/state.db")).get("MixTask/townhall-live").handles["TaskId"]  # type: ignore[union-attr]
    result = reconciler(capsys, "state", "rm", "MixTask/townhall-live")
    assert result.code == 0, result.err
    assert f"forgot MixTask/townhall-live (aliyun TaskId={task_id})" in result.out
    assert "Nothing was stopped" in result.out
    assert open_state(Path(".reconciler/state.db")).get("MixTask/townhall-live") is None
    assert actions(vendors, "aliyun")["StopMPUTask"] == 0
    assert tasks(vendors, "aliyun")[task_id]["status"] in (0, 1)  # still running at the vendor
    unknown = reconciler(capsys, "state", "rm", "MixTask/nope")
    assert unknown.code == 1 and "not in state: MixTask/nope" in unknown.err


def test_state_rm_takes_the_lock(vendors: EmulatorCluster, example: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    store = open_state(Path(".reconciler/state.db"))
    store.acquire_lock(LockInfo(os.getppid(), socket.gethostname(), "2026-01-01T00:00:00Z"))
    result = reconciler(capsys, "state", "rm", "MixTask/townhall-live")
    assert result.code == 1 and "the state is locked by pid" in result.err
    assert store.get("MixTask/townhall-live") is not None


def _lock(holder: LockInfo) -> None:
    store = open_state(Path(".reconciler/state.db"))
    store.acquire_lock(holder)
    store.close()


def test_force_unlock_refuses_a_live_holder_on_this_host_without_force(
        capsys: pytest.CaptureFixture[str]) -> None:
    live = LockInfo(os.getppid(), socket.gethostname(), "2026-01-01T00:00:00Z")
    _lock(live)
    refused = reconciler(capsys, "state", "force-unlock")
    assert refused.code == 1
    assert f"the lock holder {live} is still running on this machine" in refused.err
    assert open_state(Path(".reconciler/state.db")).lock_holder() == live
    forced = reconciler(capsys, "state", "force-unlock", "--force")
    assert forced.code == 0 and f"removed the lock held by {live}" in forced.out
    assert open_state(Path(".reconciler/state.db")).lock_holder() is None


def test_force_unlock_removes_a_dead_or_remote_holder(capsys: pytest.CaptureFixture[str]) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    for holder in (LockInfo(child.pid, socket.gethostname(), "2026-01-01T00:00:00Z"),
                   LockInfo(os.getpid(), "another-host.example", "2026-01-01T00:00:00Z")):
        _lock(holder)
        result = reconciler(capsys, "state", "force-unlock")
        assert result.code == 0 and f"removed the lock held by {holder}" in result.out


def test_demo_keeps_its_own_state(tmp_path: Path) -> None:
    copy_example("aliyun", tmp_path / "examples")
    env = {**os.environ, "PYTHONPATH": str(REPO), "RECONCILER_STATE": f"sqlite:///{tmp_path}/team.db"}
    done = subprocess.run([sys.executable, "-m", "reconciler", "demo", "examples/aliyun"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"demo state: {tmp_path}/.reconciler/demo-state.db" in done.stdout
    assert "No changes." in done.stdout
    assert not (tmp_path / "team.db").exists() and not (tmp_path / ".reconciler" / "state.db").exists()
    assert {"MixTask/standup-grid", "MixTask/townhall-live"} <= set(
        open_state(tmp_path / ".reconciler" / "demo-state.db").records())


def test_a_new_state_is_announced_on_every_backend(vendors: EmulatorCluster, example: Path, store_url: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    first = reconciler(capsys, "apply", str(example), "--auto-approve", "--state", store_url)
    assert first.code == 0, first.err
    assert "created a new, empty state there" in first.err
    assert "password" not in first.err and "@" not in first.err.split("note: no state existed at ")[1].split(";")[0]
    again = reconciler(capsys, "apply", str(example), "--auto-approve", "--state", store_url)
    assert again.code == 0 and "note:" not in again.err
