"""State backends. `open_state(url)` picks one from a URL: `sqlite:///relative/path.db`,
`sqlite:////absolute/path.db` (SQLite), or `postgresql://user@host/db` (PostgreSQL, for teams: needs
the `postgres` extra). Programs may pass a `Path` for SQLite; people give URLs (`check_state_url`),
because a bare word like `foo` silently became a new state file `./foo`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reconciler.errors import StateError
from reconciler.state.base import LockInfo, StateStore, locked
from reconciler.state.sqlite import SqliteState

DEFAULT_STATE_URL = "sqlite:///.reconciler/state.db"


def check_state_url(url: str) -> None:
    """Refuse a bare path where a state URL is expected, showing the exact URL that means that file."""
    if "://" not in url:
        raise StateError(
            f"--state (or RECONCILER_STATE) takes a URL, not a path: {url!r} would be a new state file; "
            f"for that file use --state sqlite:///{Path(url).expanduser().resolve()}"
        )


def open_state(url: str | Path = DEFAULT_STATE_URL, *, create: bool = True,
               on_create: Callable[[SqliteState], None] | None = None,
               on_missing: Callable[[SqliteState], None] | None = None) -> StateStore:
    """Open the state at `url`. A SQLite file is created by the first write, which calls `on_create`;
    with `create=False` (read-only commands) nothing is ever created, in a file or a database. `on_missing` is called at the
    first read of a SQLite state that does not exist."""
    if isinstance(url, Path):
        return SqliteState(url, create=create, on_create=on_create, on_missing=on_missing)
    if url.startswith("sqlite:///"):
        return SqliteState(Path(url.removeprefix("sqlite:///")), create=create, on_create=on_create,
                           on_missing=on_missing)
    if "://" not in url:
        return SqliteState(Path(url), create=create, on_create=on_create, on_missing=on_missing)
    if url.startswith(("postgresql://", "postgres://")):
        from reconciler.state.postgres import PostgresState

        return PostgresState(url, create=create)
    scheme = url.split("://", 1)[0]
    raise StateError(f"unsupported state URL scheme {scheme!r}; use sqlite:///path/to/state.db or postgresql://user@host/db")


DEMO_STATE_URL = "sqlite:///.reconciler/demo-state.db"


__all__ = ["DEFAULT_STATE_URL", "DEMO_STATE_URL", "check_state_url", "LockInfo", "StateStore", "locked", "open_state"]
