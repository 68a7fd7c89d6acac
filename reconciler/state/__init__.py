"""State backends. `open_state(url)` picks one from a URL: `sqlite:///relative/path.db`,
`sqlite:////absolute/path.db`, a bare file path (SQLite), or `postgresql://user@host/db` (PostgreSQL,
for teams: needs the `postgres` extra)."""

from __future__ import annotations

from pathlib import Path

from reconciler.errors import StateError
from reconciler.state.base import LockInfo, StateStore, locked
from reconciler.state.sqlite import SqliteState

DEFAULT_STATE_URL = "sqlite:///.reconciler/state.db"


def open_state(url: str | Path = DEFAULT_STATE_URL) -> StateStore:
    if isinstance(url, Path):
        return SqliteState(url)
    if url.startswith("sqlite:///"):
        return SqliteState(Path(url.removeprefix("sqlite:///")))
    if "://" not in url:
        return SqliteState(Path(url))
    if url.startswith(("postgresql://", "postgres://")):
        from reconciler.state.postgres import PostgresState

        return PostgresState(url)
    scheme = url.split("://", 1)[0]
    raise StateError(f"unsupported state URL scheme {scheme!r}; use sqlite:///path/to/state.db or postgresql://user@host/db")


__all__ = ["DEFAULT_STATE_URL", "LockInfo", "StateStore", "locked", "open_state"]
