"""Exchanges in flight to one loopback host are bounded (an emulator answers one at a time; more
connections only add connection-pool work), and apply/plan then work on no more resources at once
than can be in flight. A vendor's API host keeps the full concurrency."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from reconciler.apply.connections import LOOPBACK_IN_FLIGHT, ConnectionOptions, VendorConnections, in_flight_limit
from reconciler.model.manifest import load_manifests
from reconciler.model.provider import ProviderSpec
from reconciler.providers.base import ProviderContext
from reconciler.vendors.aliyun.provider import AliyunProvider
from tests.cli.helpers import copy_example


@pytest.mark.parametrize(("endpoint", "limit"), [
    ("http://127.0.0.1:8080", LOOPBACK_IN_FLIGHT), ("http://127.9.9.9", LOOPBACK_IN_FLIGHT),
    ("http://localhost:1/", LOOPBACK_IN_FLIGHT), ("http://[::1]:80", LOOPBACK_IN_FLIGHT),
    ("https://rtc.aliyuncs.com", None), ("http://10.0.0.1:80", None),
])
def test_only_loopback_hosts_are_bounded(endpoint: str, limit: int | None) -> None:
    assert in_flight_limit(endpoint) == limit


def peak_in_flight(gate: asyncio.Semaphore | None, calls: int) -> int:
    """The most exchanges the transport saw at once while a provider sent `calls` concurrently."""
    seen = {"now": 0, "peak": 0}

    async def handler(_request: httpx.Request) -> httpx.Response:
        seen["now"] += 1
        seen["peak"] = max(seen["peak"], seen["now"])
        for _ in range(5):  # let every other sender reach the transport if it may
            await asyncio.sleep(0)
        seen["now"] -= 1
        return httpx.Response(200, json={})

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            spec = ProviderSpec.model_validate({"vendor": "aliyun", "appId": "app", "credentials": {}})
            provider = AliyunProvider(ProviderContext(name="ali", spec=spec, endpoint="http://127.0.0.1:9",
                                                      client=client, in_flight=gate))
            await asyncio.gather(*(provider.send("GetMPUTaskStatus", lambda: client.post("http://127.0.0.1:9/"))
                                   for _ in range(calls)))

    asyncio.run(run())
    return seen["peak"]


def test_a_shared_gate_bounds_the_exchanges_in_flight() -> None:
    assert peak_in_flight(None, 12) == 12
    assert peak_in_flight(asyncio.Semaphore(LOOPBACK_IN_FLIGHT), 12) == LOOPBACK_IN_FLIGHT


def connections_for(tmp_path: Path, overrides: dict[str, str]) -> VendorConnections:
    manifests = load_manifests([copy_example("aliyun", tmp_path)])
    return VendorConnections(manifests, ConnectionOptions(endpoint_overrides=overrides))


def test_loopback_providers_share_one_gate_and_cap_the_concurrency(tmp_path: Path) -> None:
    connections = connections_for(tmp_path, {"aliyun": "http://127.0.0.1:1"})
    assert len(connections.gates) == 1
    assert connections.concurrency(16) == LOOPBACK_IN_FLIGHT and connections.concurrency(2) == 2
    asyncio.run(connections.client.aclose())


def test_a_vendor_api_host_keeps_the_requested_concurrency(tmp_path: Path) -> None:
    connections = connections_for(tmp_path, {})
    assert connections.gates == {} and connections.concurrency(16) == 16
    asyncio.run(connections.client.aclose())
