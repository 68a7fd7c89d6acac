"""SQLite state: records, intents, serials, sequences and the lock."""

from __future__ import annotations

import multiprocessing
import socket
from pathlib import Path

import pytest

from reconciler.errors import LockHeldError, StateError
from reconciler.records import Intent, ResourceRecord
from reconciler.state import LockInfo, open_state

RECORD = ResourceRecord("MixTask/a", "MixTask", "a", "ali", "aliyun")


def test_intent_then_outcome_bumps_serial_and_clears_intent(tmp_path: Path) -> None:
    store = open_state(f"sqlite:///{tmp_path}/s.db")
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


def test_state_survives_reopen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    store = open_state(url)
    store.record_intent(RECORD, Intent("create", {"TaskId": "t1"}, None, "active", 1, "now"))
    store.close()
    again = open_state(url).get("MixTask/a")
    assert again is not None and again.intent is not None and again.intent.operation == "create"


def test_second_lock_fails_naming_the_holder(tmp_path: Path) -> None:
    store = open_state(f"sqlite:///{tmp_path}/s.db")
    other = open_state(f"sqlite:///{tmp_path}/s.db")
    holder = LockInfo(1, "build-host-7", "2026-11-21T10:00:00Z")
    store.acquire_lock(holder)
    with pytest.raises(LockHeldError) as caught:
        other.acquire_lock(LockInfo.current())
    assert str(caught.value) == ("the state is locked by pid 1 on build-host-7 (apply, since 2026-11-21T10:00:00Z); "
                                 "wait for that run to finish, or if it died, run `reconciler state force-unlock`")
    assert other.force_unlock() == holder
    other.acquire_lock(LockInfo.current())


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


def test_sequences_are_strictly_increasing_and_respect_the_floor(tmp_path: Path) -> None:
    store = open_state(f"sqlite:///{tmp_path}/s.db")
    assert store.next_sequence("zego:stream:a", 100) == 100
    assert store.next_sequence("zego:stream:a", 50) == 101
    assert store.next_sequence("zego:stream:a", 500) == 500
    assert store.next_sequence("zego:stream:b", 1) == 1


def test_unsupported_state_url() -> None:
    with pytest.raises(StateError, match="unsupported state URL scheme 'redis'"):
        open_state("redis://localhost/0")
