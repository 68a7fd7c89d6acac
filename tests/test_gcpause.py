"""Bulk phases (loading manifests, the state's records, planning) run with the cyclic collector
paused: it would walk the growing heap again and again and free nothing. Checked by counting the
collections that happen, not by timing."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.manifests import write_manifests
from reconciler.gcpause import collector_paused
from reconciler.model import load_manifests
from reconciler.plan import make_plan
from reconciler.records import Intent, ResourceRecord
from reconciler.state import open_state


@pytest.fixture
def collections() -> Iterator[list[int]]:
    seen: list[int] = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(count)
    yield seen
    gc.callbacks.remove(count)


def test_loading_planning_and_reading_state_collect_nothing_and_leave_the_collector_on(
        tmp_path: Path, collections: list[int]) -> None:
    root = tmp_path / "m"
    write_manifests(root, 600, 6)
    store = open_state(tmp_path / "state.db")
    for d in load_manifests([root]).desired():
        record = ResourceRecord(d.address, d.kind, d.name, d.provider, d.vendor, {"TaskId": d.name}, 1, None)
        store.record_intent(record, Intent("create", {"TaskId": d.name}, d.spec, "active", 1, "now"))
    assert gc.isenabled()
    collections.clear()
    manifests = load_manifests([root])
    desired = manifests.desired()
    records = store.records()
    plan = make_plan(desired, records, {}, state_serial=0, manifest_fingerprint="f", created_at="now")
    # hundreds of thousands of allocations (about 70 collections with the collector on): at most the
    # one each phase's end may bring, when the objects it made are counted at the next allocation
    assert len(collections) <= 4, collections
    assert gc.isenabled() and len(plan.changes) == 600
    store.close()


def test_a_caller_that_switched_the_collector_off_keeps_it_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
