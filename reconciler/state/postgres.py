"""PostgreSQL state, for teams: one store shared by CI runners and machines.

The lock is a lease: a session-level advisory lock held on a dedicated connection for the whole
apply. If the process dies, PostgreSQL ends its session and releases the lock by itself, so a crashed
runner never blocks the next one. The holder's pid, host and start time sit in a row beside it, so
every lock error names who holds it. Sequences are allocated in one atomic upsert, strictly
increasing for every process on every machine sharing the database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconciler.errors import LockHeldError, StateError
from reconciler.gcpause import without_collector
from reconciler.records import Intent, ResourceRecord
from reconciler.state.base import LockInfo, utc_now
from reconciler.state.rows import COLUMNS, intent_data, record_from_row

try:
    import psycopg
except ImportError:  # pragma: no cover - exercised only without the extra installed
    psycopg = None  # type: ignore[assignment]

LOCK_KEY = 0x52544352  # "RTCR": the advisory lock id of the reconciler's state

SCHEMA = """
CREATE TABLE IF NOT EXISTS reconciler_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS reconciler_resources (
    address TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, provider TEXT NOT NULL,
    vendor TEXT NOT NULL, handles TEXT NOT NULL DEFAULT '{}', generation INTEGER NOT NULL DEFAULT 0,
    last_applied TEXT, lifecycle TEXT NOT NULL DEFAULT 'inactive', deletion_policy TEXT NOT NULL DEFAULT 'Delete',
    intent TEXT, serial BIGINT NOT NULL DEFAULT 0, updated_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS reconciler_lock (
    id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, host TEXT NOT NULL, since TEXT NOT NULL,
    purpose TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reconciler_sequences (scope TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO reconciler_meta (key, value) VALUES ('serial', 0) ON CONFLICT (key) DO NOTHING;
"""


def _one(cursor: Any) -> tuple[Any, ...]:
    """The single row a statement that always returns one gave back."""
    row = cursor.fetchone()
    if row is None:
        raise StateError("the PostgreSQL state returned no row where one was expected; is the schema intact?")
    return tuple(row)


class PostgresState:
    """With `create=False` (read-only commands) a database without the reconciler's tables is read as an
    empty state: the tables are made as temporary ones of this session, which PostgreSQL drops when the
    session ends, so nothing is created in the database."""

    def __init__(self, url: str, *, create: bool = True) -> None:
        if psycopg is None:
            raise StateError("PostgreSQL state needs psycopg: pip install 'rtc-reconciler[postgres]'")
        self.url = url
        self.created = False  # this open made a new, empty state in the database
        self.empty_stand_in = False  # no state there, and read-only: an empty one for this session only
        try:
            self._db = psycopg.connect(url, autocommit=True)
            with self._db.transaction():
                self._db.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY + 1,))  # one schema writer at a time
                found = self._db.execute("SELECT to_regclass('reconciler_meta')").fetchone()
                missing = found is None or found[0] is None
                if missing and not create:
                    self.empty_stand_in = True
                    self._db.execute(SCHEMA.replace("CREATE TABLE", "CREATE TEMPORARY TABLE"))
                else:
                    self.created = missing
                    self._db.execute(SCHEMA)
        except psycopg.Error as exc:
            raise StateError(f"cannot open PostgreSQL state at {_safe(url)}: {exc.__class__.__name__}: "
                             f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}") from None
        self._lock_conn: Any = None

    # -- reading -------------------------------------------------------------------------------
    def serial(self) -> int:
        return int(_one(self._db.execute("SELECT value FROM reconciler_meta WHERE key='serial'"))[0])

    @without_collector
    def records(self) -> dict[str, ResourceRecord]:
        rows = self._db.execute(f"SELECT {COLUMNS} FROM reconciler_resources ORDER BY address").fetchall()
        return {row[0]: record_from_row(tuple(row)) for row in rows}

    def get(self, address: str) -> ResourceRecord | None:
        row = self._db.execute(f"SELECT {COLUMNS} FROM reconciler_resources WHERE address=%s", (address,)).fetchone()
        return record_from_row(tuple(row)) if row else None

    # -- writing -------------------------------------------------------------------------------
    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        try:
            with self._db.transaction():
                serial = _one(self._db.execute(
                    "UPDATE reconciler_meta SET value = value + 1 WHERE key='serial' RETURNING value"))[0]
                self._db.execute(sql, tuple(serial if p is _SERIAL else utc_now() if p is _NOW else p for p in params))
        except psycopg.Error as exc:
            raise StateError(f"cannot write PostgreSQL state: {exc.__class__.__name__}") from exc

    def record_intent(self, record: ResourceRecord, intent: Intent) -> None:
        self._write(
            f"""INSERT INTO reconciler_resources ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (address) DO UPDATE SET intent=EXCLUDED.intent, serial=EXCLUDED.serial,
                   updated_at=EXCLUDED.updated_at""",
            (record.address, record.kind, record.name, record.provider, record.vendor,
             json.dumps(dict(record.handles)), record.generation,
             json.dumps(record.last_applied) if record.last_applied is not None else None,
             record.lifecycle, record.deletion_policy, json.dumps(intent_data(intent)), _SERIAL, _NOW),
        )

    def save_handles(self, address: str, handles: Mapping[str, str]) -> None:
        row = self._db.execute("SELECT intent FROM reconciler_resources WHERE address=%s", (address,)).fetchone()
        if row is None or row[0] is None:
            raise StateError(f"no operation in progress for {address}")
        intent = json.loads(row[0])
        intent["handles"] = {**intent["handles"], **handles}
        self._write("UPDATE reconciler_resources SET intent=%s, serial=%s, updated_at=%s WHERE address=%s",
                    (json.dumps(intent), _SERIAL, _NOW, address))

    def record_outcome(self, address: str, *, handles: Mapping[str, str], generation: int,
                       last_applied: Mapping[str, Any] | None, lifecycle: str, deletion_policy: str = "Delete") -> None:
        self._write(
            """UPDATE reconciler_resources SET handles=%s, generation=%s, last_applied=%s, lifecycle=%s,
                   deletion_policy=%s, intent=NULL, serial=%s, updated_at=%s WHERE address=%s""",
            (json.dumps(dict(handles)), generation, json.dumps(last_applied) if last_applied is not None else None,
             lifecycle, deletion_policy, _SERIAL, _NOW, address),
        )

    def clear_intent(self, address: str) -> None:
        self._write("UPDATE reconciler_resources SET intent=NULL, serial=%s, updated_at=%s WHERE address=%s",
                    (_SERIAL, _NOW, address))

    def forget(self, address: str) -> None:
        self._write("DELETE FROM reconciler_resources WHERE address=%s", (address,))

    def next_sequence(self, scope: str, floor: int) -> int:
        row = _one(self._db.execute(
            """INSERT INTO reconciler_sequences (scope, value) VALUES (%s, %s)
               ON CONFLICT (scope) DO UPDATE SET value = GREATEST(reconciler_sequences.value + 1, EXCLUDED.value)
               RETURNING value""",
            (scope, floor),
        ))
        return int(row[0])

    # -- locking -------------------------------------------------------------------------------
    def acquire_lock(self, info: LockInfo) -> None:
        conn = psycopg.connect(self.url, autocommit=True)
        got = _one(conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)))[0]
        if not got:
            conn.close()
            holder = self.lock_holder()
            raise LockHeldError(str(holder) if holder else "another process (no holder recorded yet)")
        conn.execute(
            """INSERT INTO reconciler_lock (id, pid, host, since, purpose) VALUES (1, %s, %s, %s, %s)
               ON CONFLICT (id) DO UPDATE SET pid=EXCLUDED.pid, host=EXCLUDED.host, since=EXCLUDED.since,
                   purpose=EXCLUDED.purpose""",
            (info.pid, info.host, info.since, info.purpose),
        )
        self._lock_conn = conn

    def release_lock(self, info: LockInfo) -> None:
        if self._lock_conn is None:
            return
        self._lock_conn.execute("DELETE FROM reconciler_lock WHERE pid=%s AND host=%s", (info.pid, info.host))
        self._lock_conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        self._lock_conn.close()
        self._lock_conn = None

    def lock_holder(self) -> LockInfo | None:
        held = _one(self._db.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype='advisory' AND objid=%s AND granted", (LOCK_KEY,)))[0]
        if not held:
            return None  # a row without the lease is left over from a process that died
        row = self._db.execute("SELECT pid, host, since, purpose FROM reconciler_lock WHERE id=1").fetchone()
        return LockInfo(int(row[0]), row[1], row[2], row[3]) if row else None

    def force_unlock(self) -> LockInfo | None:
        holder = self.lock_holder()
        # terminating is asynchronous: wait (PostgreSQL 14+) until the holder's session is gone, so the lock is
        # free when this returns and an acquire right after it cannot find the dead holder still there
        holders = "FROM pg_locks WHERE locktype='advisory' AND objid=%s AND granted"
        if self._db.info.server_version >= 140000:
            self._db.execute("SELECT pg_terminate_backend(pid, 10000) " + holders, (LOCK_KEY,))
        else:
            self._db.execute("SELECT pg_terminate_backend(pid) " + holders, (LOCK_KEY,))
        self._db.execute("DELETE FROM reconciler_lock")
        return holder

    def close(self) -> None:
        if self._lock_conn is not None:
            self._lock_conn.close()
        self._db.close()


_SERIAL = object()
_NOW = object()


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in credentials else f"{scheme}://{user}@{host}"
    return url
