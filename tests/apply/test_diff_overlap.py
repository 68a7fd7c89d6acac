"""Each resource is diffed as soon as its observation is in, while other calls are still in flight,
and the plan reuses that work: with one status call held at the emulator, every other resource is
already diffed; after the release the plan diffs only the one that was held."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import reconciler.plan.planner as planner
from bench.manifests import write_manifests
from reconciler.apply.connections import ConnectionOptions
from reconciler.emulator.cluster import EmulatorCluster
from reconciler.endpoints import load_endpoints_file
from reconciler.plan.planner import Diffed, PlanOptions, make_plan
from reconciler.state import open_state
from reconciler.workflow import apply_manifests, plan_manifests
from tests.conftest import control

TASKS = 10


def test_resources_are_diffed_while_other_observations_are_in_flight(
        vendors: EmulatorCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "m"
    write_manifests(root, TASKS, 2)
    store = open_state(tmp_path / "state.db")
    options = ConnectionOptions(endpoint_overrides=load_endpoints_file(None))
    asyncio.run(apply_manifests([root], store, options, PlanOptions()))

    diffs: list[str] = []
    real = planner.plan_resource

    def counted(desired: Any, record: Any, observation: Any) -> Any:
        diffs.append(desired.address)
        return real(desired, record, observation)

    monkeypatch.setattr(planner, "plan_resource", counted)
    control(vendors, "aliyun", "faults", {"action": "GetMPUTaskStatus", "type": "hold", "count": 1})
    outcome: list[Any] = []
    thread = threading.Thread(target=lambda: outcome.append(
        asyncio.run(plan_manifests([root], store, options, PlanOptions()))), daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a bound for a broken run only: a working one gets there at once
    while time.monotonic() < deadline:
        if control(vendors, "aliyun", "requests")["held"] and len(diffs) == TASKS - 1:
            break
        threading.Event().wait(0.02)
    assert len(diffs) == TASKS - 1, "the other resources were not diffed while one call was held"
    assert control(vendors, "aliyun", "release", {}) == {"released": 1}
    thread.join(timeout=60)
    assert len(diffs) == TASKS  # make_plan reused the early diffs: only the held one was added
    assert len(set(diffs)) == TASKS and not outcome[0].plan.pending()
    store.close()


def test_an_early_diff_of_other_inputs_is_not_used() -> None:
    from reconciler.model.desired import DesiredResource
    from reconciler.records import Observation

    desired = DesiredResource(address="MixTask/a", kind="MixTask", name="a", provider="p", vendor="aliyun",
                              lifecycle="active", spec={"channel": "c"})
    stale = planner.diff_now(desired, None, Observation("active", handles={"TaskId": "x"}))
    plan = make_plan([desired], {}, {}, state_serial=0, manifest_fingerprint="f", created_at="now",
                     diffed={"MixTask/a": Diffed(stale.record, stale.observation, stale.change)})
    fresh = planner.plan_resource(desired, None, None)
    assert plan.changes == (fresh,)  # observed nothing this time: the stale change was set aside
