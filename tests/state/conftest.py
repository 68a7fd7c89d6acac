"""Every state backend must keep the same contract: the tests run once per backend."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres_server import PostgresServer


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    existing = os.environ.get("RECONCILER_TEST_POSTGRES_URL")
    if existing:
        yield existing
        return
    server = PostgresServer()
    try:
        url = server.start()
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"no PostgreSQL server available: {exc}")
    yield url
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state.db"
    import psycopg

    base = request.getfixturevalue("postgres_server_url")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.rsplit("/", 1)[0] + f"/{name}"
