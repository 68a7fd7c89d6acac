"""Shared fixtures: every test runs in its own directory with no real credentials in reach; vendor
tests talk to the emulators over real loopback sockets."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.emulator.cluster import EmulatorCluster, emulator_class
from reconciler.vendors import vendor_names
from tests.postgres_server import PostgresServer

CREDENTIAL_PREFIXES = ("ALIYUN_", "ANYRTC_", "TENCENT_", "ZEGO_", "RECONCILER_", "OSS_", "AWS_")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory and HOME, and no vendor credentials from the outside world."""
    for name in list(os.environ):
        if name.startswith(CREDENTIAL_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def emulators() -> Iterator[EmulatorCluster]:
    cluster = EmulatorCluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def vendors(emulators: EmulatorCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> EmulatorCluster:
    """The emulators reset to a clean slate, their endpoints file written, demo credentials exported."""
    for url in emulators.endpoints.values():
        httpx.post(f"{url}/_emulator/reset", timeout=5).raise_for_status()
    endpoints = tmp_path / "endpoints.json"
    emulators.write_endpoints(endpoints)
    monkeypatch.setenv("RECONCILER_ENDPOINTS_FILE", str(endpoints))
    for vendor in vendor_names():
        for name, value in emulator_class(vendor).DEMO_ENV.items():
            monkeypatch.setenv(name, value)
    return emulators


def control(cluster: EmulatorCluster, vendor: str, name: str, body: object | None = None) -> dict:
    """Call an emulator control endpoint: GET without a body, POST with one."""
    url = f"{cluster.endpoints[vendor]}/_emulator/{name}"
    response = httpx.post(url, json=body, timeout=10) if body is not None else httpx.get(url, timeout=10)
    response.raise_for_status()
    return response.json()


# -- state backends: tests taking `store_url` run once per backend ------------------------------------

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
