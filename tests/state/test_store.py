"""State stores (SQLite and PostgreSQL): records, intents, serials, sequences and the lock."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reconciler.errors import LockHeldError, StateError
from reconciler.records import Intent, ResourceRecord
from reconciler.state import LockInfo, open_state

RECORD = ResourceRecord("MixTask/a", "MixTask", "a", "ali", "aliyun")


def test_intent_then_outcome_bumps_serial_and_clears_intent(store_url: str) -> None:
    store = open_state(store_url)
    assert store.serial() == 0 and store.records() == {}
    store.record_intent(RECORD, Intent("create", {"TaskId": "t1"}, {"channel": "c"}, "active", 1, "now"))
    store.save_handles("MixTask/a", {"Extra": "x"})
    pending = store.get("MixTask/a")
    assert pending is not None and pending.intent is not None
    assert dict(pending.intent.handles) == {"TaskId": "t1", "Extra": "x"}
    assert pending.handles == {} and pending.last_applied is None
    store.record_outcome("MixTask/a", handles={"TaskId": "t1"}, generation=1, last_applied={"channel": "c"},
                         lifecycle="active")
    done = store.get("MixTask/a")
    assert done is not None and done.intent is None
    assert (dict(done.handles), done.generation, done.last_applied, done.lifecycle) == (
        {"TaskId": "t1"}, 1, {"channel": "c"}, "active")
    assert store.serial() == 3
    store.forget("MixTask/a")
    assert store.get("MixTask/a") is None and store.serial() == 4


def test_state_survives_reopen(store_url: str) -> None:
    url = store_url
    store = open_state(url)
    store.record_intent(RECORD, Intent("create", {"TaskId": "t1"}, None, "active", 1, "now"))
    store.close()
    again = open_state(url).get("MixTask/a")
    assert again is not None and again.intent is not None and again.intent.operation == "create"


def test_second_lock_fails_naming_the_holder(store_url: str) -> None:
    store = open_state(store_url)
    other = open_state(store_url)
    holder = LockInfo(1, "build-host-7", "2026-11-21T10:00:00Z")
    store.acquire_lock(holder)
    with pytest.raises(LockHeldError) as caught:
        other.acquire_lock(LockInfo.current())
    assert str(caught.value) == ("the state is locked by pid 1 on build-host-7 (apply, since 2026-11-21T10:00:00Z); "
                                 "wait for that run to finish, or if it died, run `reconciler state force-unlock`")
    assert other.lock_holder() == holder
    assert other.force_unlock() == holder
    other.acquire_lock(LockInfo.current())
    held = other.lock_holder()
    assert held is not None and held.pid == os.getpid()
    other.release_lock(LockInfo.current())
    assert other.lock_holder() is None


def _dead_pid() -> int:
    process = multiprocessing.get_context("spawn").Process(target=int)
    process.start()
    process.join()
    return int(process.pid or 0)


def test_lock_of_a_dead_local_process_is_taken_over(tmp_path: Path) -> None:
    store = open_state(f"sqlite:///{tmp_path}/s.db")
    store.acquire_lock(LockInfo(_dead_pid(), socket.gethostname(), "2026-11-21T10:00:00Z"))
    store.acquire_lock(LockInfo.current())
    holder = store.lock_holder()
    assert holder is not None and holder.pid == LockInfo.current().pid


def test_sequences_are_strictly_increasing_and_respect_the_floor(store_url: str) -> None:
    store = open_state(store_url)
    assert store.next_sequence("zego:stream:a", 100) == 100
    assert store.next_sequence("zego:stream:a", 50) == 101
    assert store.next_sequence("zego:stream:a", 500) == 500
    assert store.next_sequence("zego:stream:b", 1) == 1


def test_unsupported_state_url() -> None:
    with pytest.raises(StateError, match="unsupported state URL scheme 'redis'"):
        open_state("redis://localhost/0")


def _allocate(url: str, count: int, queue: "multiprocessing.Queue[list[int]]") -> None:
    store = open_state(url)
    queue.put([store.next_sequence("zego:stream:shared", 1) for _ in range(count)])


def test_sequences_never_repeat_across_processes(store_url: str) -> None:
    open_state(store_url).close()  # create the schema once
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[list[int]] = ctx.Queue()
    workers = [ctx.Process(target=_allocate, args=(store_url, 100, queue)) for _ in range(3)]
    for worker in workers:
        worker.start()
    values = [v for _ in workers for v in queue.get(timeout=60)]
    for worker in workers:
        worker.join()
    assert len(values) == 300 and len(set(values)) == 300


HOLD_LOCK = """
import sys, time
from reconciler.state import LockInfo, open_state
store = open_state(sys.argv[1])
store.acquire_lock(LockInfo.current())
print("locked", flush=True)
time.sleep(60)
"""


def test_a_killed_holder_does_not_block_the_next_run(store_url: str) -> None:
    open_state(store_url).close()
    child = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, store_url], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "locked"
    store = open_state(store_url)
    with pytest.raises(LockHeldError, match=f"pid {child.pid} on "):
        store.acquire_lock(LockInfo.current())
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    deadline = time.monotonic() + 10
    while True:  # PostgreSQL notices the dead session within moments; SQLite checks the pid at once
        try:
            store.acquire_lock(LockInfo.current())
            break
        except LockHeldError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
