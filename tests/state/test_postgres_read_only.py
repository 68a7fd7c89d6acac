"""Read-only commands on a PostgreSQL database without the reconciler's tables create nothing there,
as they create no SQLite file: they read an empty state, say so, and leave the database as it was."""

from __future__ import annotations

import uuid

import pytest

from reconciler.state import open_state
from reconciler.state.postgres import PostgresState
from tests.cli.helpers import reconciler


@pytest.fixture
def empty_database(postgres_server_url: str) -> str:
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres_server_url.rsplit("/", 1)[0] + f"/{name}"


def tables(url: str) -> list[str]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'reconciler_%'").fetchall()
    return sorted(row[0] for row in rows)


def test_a_read_only_open_reads_an_empty_state_and_creates_no_table(empty_database: str) -> None:
    store = open_state(empty_database, create=False)
    assert store.records() == {} and store.serial() == 0
    assert isinstance(store, PostgresState) and store.empty_stand_in and not store.created
    store.close()
    assert tables(empty_database) == []


def test_state_list_on_an_empty_database_says_so_and_leaves_it_empty(
        empty_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = reconciler(capsys, "state", "list", "--state", empty_database)
    assert result.code == 0, result.err
    assert "note: no state at postgresql://" in result.err and "creating nothing" in result.err
    assert tables(empty_database) == []
    # a command that writes still creates the tables, and says so
    store = open_state(empty_database)
    assert isinstance(store, PostgresState) and store.created
    store.close()
    assert tables(empty_database) == ["reconciler_lock", "reconciler_meta", "reconciler_resources",
                                      "reconciler_sequences"]
