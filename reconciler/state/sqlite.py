"""SQLite state: one file, safe for several processes on one machine (WAL, BEGIN IMMEDIATE).

Durability: WAL with `synchronous=NORMAL`. A commit is in the WAL file (the operating system's
cache) before it returns, so it survives the process being killed (kill -9, a crash) at any point,
which is what the intent-before-write rule needs; it is not fsynced at every commit, so a power
loss or kernel crash can lose the last commits before the next checkpoint (never corrupt the file).
That costs no fsync per change instead of one per transaction.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from reconciler.errors import LockHeldError, StateError
from reconciler.gcpause import without_collector
from reconciler.records import Intent, ResourceRecord
from reconciler.state.base import LockInfo, holder_alive_here, utc_now
from reconciler.state.rows import COLUMNS, intent_data, record_from_row

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS resources (
    address TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    provider TEXT NOT NULL,
    vendor TEXT NOT NULL,
    handles TEXT NOT NULL DEFAULT '{}',
    generation INTEGER NOT NULL DEFAULT 0,
    last_applied TEXT,
    lifecycle TEXT NOT NULL DEFAULT 'inactive',
    deletion_policy TEXT NOT NULL DEFAULT 'Delete',
    intent TEXT,
    serial INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS lock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pid INTEGER NOT NULL, host TEXT NOT NULL, since TEXT NOT NULL, purpose TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sequences (scope TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('serial', '0');
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', '1');
"""


class SqliteState:
    """A state file that does not exist yet is an empty state held in memory until the first write,
    which creates the file (and its directories) and calls `on_create`. With `create=False` (read-only
    commands) nothing is ever created: writes, if any, stay in memory."""

    def __init__(self, path: Path | str, *, create: bool = True,
                 on_create: Callable[[SqliteState], None] | None = None,
                 on_missing: Callable[[SqliteState], None] | None = None) -> None:
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self.missing = not self.path.exists()  # no file (yet): an empty state in memory
        self.created = False  # a write of this process created the file
        self._create = create
        self._on_create = on_create
        self._on_missing = on_missing  # told once, at the first read of a state that does not exist
        if not self.missing and self.path.is_file() and self.path.stat().st_size == 0:
            raise StateError(
                f"the state file {self.path.resolve()} is empty (0 bytes), so it holds no state database: it was "
                "truncated or created by something else. Restore it from a backup; only if the vendors run nothing "
                "this reconciler started, delete it to begin with an empty state"
            )
        self._db = self._connect(":memory:" if self.missing else str(self.path))

    def _connect(self, target: str) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(target, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # see the module docstring
            db.execute("PRAGMA busy_timeout=30000")
            db.executescript(SCHEMA)
            return db
        except sqlite3.Error as exc:
            raise StateError(f"cannot open state database {self.path}: {exc}") from exc

    def _writable(self) -> None:
        """Before every write: a state that did not exist becomes a file now, unless the open was read-only."""
        if not self.missing or not self._create:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = self._create_file()
        except OSError as exc:
            raise StateError(f"cannot create the state {self.path}: {exc.strerror or exc}") from exc
        self._db.close()
        self._db = self._connect(str(self.path))
        self.missing = False
        self.created = created
        if self.created and self._on_create is not None:
            self._on_create(self)

    def _create_file(self) -> bool:
        """Build the new database beside its path and link it into place, so that no process ever sees
        a half-made (zero-byte) state file; False when another process created it first."""
        scratch = self.path.with_name(f".{self.path.name}.new-{os.getpid()}")
        try:
            self._connect(str(scratch)).close()
            try:
                os.link(scratch, self.path)
            except FileExistsError:
                return False
            return True
        finally:
            for leftover in (scratch, Path(f"{scratch}-wal"), Path(f"{scratch}-shm")):
                leftover.unlink(missing_ok=True)

    # -- reading -------------------------------------------------------------------------------
    def _read(self) -> None:
        if self.missing and self._on_missing is not None:
            on_missing, self._on_missing = self._on_missing, None
            on_missing(self)

    def serial(self) -> int:
        self._read()
        row = self._db.execute("SELECT value FROM meta WHERE key='serial'").fetchone()
        return int(row[0])

    @without_collector
    def records(self) -> dict[str, ResourceRecord]:
        self._read()
        rows = self._db.execute(f"SELECT {COLUMNS} FROM resources ORDER BY address").fetchall()
        return {row[0]: record_from_row(row) for row in rows}

    def get(self, address: str) -> ResourceRecord | None:
        self._read()
        row = self._db.execute(f"SELECT {COLUMNS} FROM resources WHERE address=?", (address,)).fetchone()
        return record_from_row(row) if row else None

    # -- writing -------------------------------------------------------------------------------
    def _transaction(self, sql: str, params: tuple[Any, ...]) -> None:
        """Run one write in its own transaction and bump the store's serial with it.

        In `params`, `_SERIAL` and `_NOW` stand for the new serial and the current time.
        """
        self._writable()
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                serial = self.serial() + 1
                self._db.execute("UPDATE meta SET value=? WHERE key='serial'", (str(serial),))
                self._db.execute(sql, tuple(serial if p is _SERIAL else utc_now() if p is _NOW else p for p in params))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StateError(f"cannot write state database {self.path}: {exc}") from exc

    def record_intent(self, record: ResourceRecord, intent: Intent) -> None:
        self._transaction(
            """INSERT INTO resources (address, kind, name, provider, vendor, handles, generation, last_applied,
                   lifecycle, deletion_policy, intent, serial, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(address) DO UPDATE SET intent=excluded.intent, serial=excluded.serial,
                   updated_at=excluded.updated_at""",
            (
                record.address, record.kind, record.name, record.provider, record.vendor,
                json.dumps(dict(record.handles)), record.generation,
                json.dumps(record.last_applied) if record.last_applied is not None else None,
                record.lifecycle, record.deletion_policy, json.dumps(intent_data(intent)), _SERIAL, _NOW,
            ),
        )

    def save_handles(self, address: str, handles: Mapping[str, str]) -> None:
        row = self._db.execute("SELECT intent FROM resources WHERE address=?", (address,)).fetchone()
        if row is None or row[0] is None:
            raise StateError(f"no operation in progress for {address}")
        intent = json.loads(row[0])
        intent["handles"] = {**intent["handles"], **handles}
        self._transaction(
            "UPDATE resources SET intent=?, serial=?, updated_at=? WHERE address=?",
            (json.dumps(intent), _SERIAL, _NOW, address),
        )

    def record_outcome(
        self,
        address: str,
        *,
        handles: Mapping[str, str],
        generation: int,
        last_applied: Mapping[str, Any] | None,
        lifecycle: str,
        deletion_policy: str = "Delete",
    ) -> None:
        self._transaction(
            """UPDATE resources SET handles=?, generation=?, last_applied=?, lifecycle=?, deletion_policy=?,
                   intent=NULL, serial=?, updated_at=? WHERE address=?""",
            (json.dumps(dict(handles)), generation,
             json.dumps(last_applied) if last_applied is not None else None, lifecycle, deletion_policy,
             _SERIAL, _NOW, address),
        )

    def clear_intent(self, address: str) -> None:
        self._transaction("UPDATE resources SET intent=NULL, serial=?, updated_at=? WHERE address=?",
                          (_SERIAL, _NOW, address))

    def forget(self, address: str) -> None:
        self._transaction("DELETE FROM resources WHERE address=?", (address,))

    def next_sequence(self, scope: str, floor: int) -> int:
        self._writable()
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT value FROM sequences WHERE scope=?", (scope,)).fetchone()
                value = max(floor, (row[0] + 1) if row else floor)
                self._db.execute(
                    "INSERT INTO sequences (scope, value) VALUES (?, ?) "
                    "ON CONFLICT(scope) DO UPDATE SET value=excluded.value",
                    (scope, value),
                )
                self._db.execute("COMMIT")
                return value
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StateError(f"cannot write state database {self.path}: {exc}") from exc

    # -- locking -------------------------------------------------------------------------------
    def acquire_lock(self, info: LockInfo) -> None:
        self._writable()
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                holder = self.lock_holder()
                if holder is not None and not _is_dead_local(holder):
                    self._db.execute("ROLLBACK")
                    raise LockHeldError(str(holder))
                self._db.execute("DELETE FROM lock")
                self._db.execute(
                    "INSERT INTO lock (id, pid, host, since, purpose) VALUES (1, ?, ?, ?, ?)",
                    (info.pid, info.host, info.since, info.purpose),
                )
                self._db.execute("COMMIT")
            except LockHeldError:
                raise
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StateError(f"cannot lock state database {self.path}: {exc}") from exc

    def release_lock(self, info: LockInfo) -> None:
        self._db.execute("DELETE FROM lock WHERE pid=? AND host=?", (info.pid, info.host))

    def lock_holder(self) -> LockInfo | None:
        self._read()
        row = self._db.execute("SELECT pid, host, since, purpose FROM lock WHERE id=1").fetchone()
        return LockInfo(int(row[0]), row[1], row[2], row[3]) if row else None

    def force_unlock(self) -> LockInfo | None:
        holder = self.lock_holder()
        self._db.execute("DELETE FROM lock")
        return holder

    def close(self) -> None:
        self._db.close()


_SERIAL = object()  # placeholder: the serial of the write being made
_NOW = object()  # placeholder: the time of the write being made

def _is_dead_local(holder: LockInfo) -> bool:
    """A lock left by a process of this machine that no longer exists can be taken over safely."""
    return holder.host == socket.gethostname() and not holder_alive_here(holder)
