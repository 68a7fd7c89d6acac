"""Three outcomes of a vendor write: not sent, rejected, unknown. Only unknown leaves an intent,
an intent never blocks a plan, and apply asks the vendor before writing again. Preflight: a run
that cannot use every credential and endpoint it needs writes nothing at all.
Assertions are on the emulators' own request counts and task tables."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import httpx
import pytest

from reconciler.apply.connections import ConnectionOptions, VendorConnections
from reconciler.apply.executor import execute_plan
from reconciler.emulator.cluster import EmulatorCluster
from reconciler.endpoints import load_endpoints_file
from reconciler.errors import PreflightError
from reconciler.model.manifest import load_manifests
from reconciler.plan.planner import PlanOptions, make_plan
from reconciler.retry import RetryPolicy
from reconciler.state import open_state
from reconciler.vendors import vendor_names
from reconciler.workflow import ApplyOutcome, apply_manifests, plan_manifests
from tests.cli.helpers import actions, copy_example, reconciler, tasks
from tests.conftest import control

FAST = RetryPolicy(attempts=3, base_delay=0.0, jitter=0.0)
TOWNHALL = "MixTask/townhall-live"


async def no_sleep(_seconds: float) -> None:
    return None


def options(**overrides: object) -> ConnectionOptions:
    base: dict[str, object] = {"endpoint_overrides": load_endpoints_file(None), "retry": FAST, "sleep": no_sleep}
    return ConnectionOptions(**{**base, **overrides})  # type: ignore[arg-type]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def townhall(outcome: ApplyOutcome) -> tuple[bool, str]:
    assert outcome.result is not None
    [result] = [r for r in outcome.result.results if r.address == TOWNHALL]
    return result.ok, result.outcome


def clear_faults(cluster: EmulatorCluster, vendor: str) -> None:
    httpx.delete(f"{cluster.endpoints[vendor]}/_emulator/faults", timeout=5).raise_for_status()


def total_requests(cluster: EmulatorCluster) -> dict[str, int]:
    return {vendor: control(cluster, vendor, "requests")["total"] for vendor in vendor_names()}


def test_a_write_that_never_left_the_machine_leaves_no_intent(vendors: EmulatorCluster, tmp_path: Path) -> None:
    example = copy_example("aliyun", tmp_path)
    manifests = load_manifests([example])
    plan = make_plan(manifests.desired(), {}, {}, state_serial=0, manifest_fingerprint=manifests.fingerprint,
                     created_at="now", options=PlanOptions(targets=frozenset({TOWNHALL})))
    store = open_state(f"sqlite:///{tmp_path}/state.db")
    refused = options(endpoint_overrides={"aliyun": f"http://127.0.0.1:{closed_port()}"})

    async def apply() -> list[tuple[str, bool, str]]:
        async with VendorConnections(manifests, refused, sequences=store.next_sequence) as connections:
            result = await execute_plan(plan, store, connections.providers)
        return [(r.address, r.ok, r.outcome) for r in result.results]

    assert (TOWNHALL, False, "not sent") in asyncio.run(apply())
    record = store.get(TOWNHALL)
    assert record is None or record.intent is None
    store.close()
    assert actions(vendors, "aliyun") == {}


def test_a_write_the_vendor_rejected_leaves_no_intent_and_the_next_plan_is_clean(
        vendors: EmulatorCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = copy_example("aliyun", tmp_path)
    control(vendors, "aliyun", "faults", {"action": "StartMPUTask", "type": "error", "count": 1,
                                          "code": "Request.IllegalSignature", "status": 400})
    failed = reconciler(capsys, "apply", str(example), "--auto-approve", "--target", TOWNHALL)
    assert failed.code == 1
    assert f"FAILED (rejected) {TOWNHALL} start" in failed.out and "1 rejected" in failed.out
    store = open_state(f"sqlite:///{tmp_path}/.reconciler/state.db")
    record = store.get(TOWNHALL)
    assert record is None or record.intent is None
    store.close()
    plan = reconciler(capsys, "plan", str(example), "--target", TOWNHALL, "--detailed-exitcode")
    assert plan.code == 2 and "interrupted" not in plan.out + plan.err and "unknown outcome" not in plan.out
    assert reconciler(capsys, "apply", str(example), "--auto-approve", "--target", TOWNHALL).code == 0
    assert control(vendors, "aliyun", "requests")["actions"]["StartMPUTask"] == {
        "fault:Request.IllegalSignature": 1, "ok": 1}


def test_a_wrong_secret_is_rejected_and_leaves_nothing_uncertain_behind(
        vendors: EmulatorCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    example = copy_example("aliyun", tmp_path)
    secret = os.environ["ALIYUN_ACCESS_KEY_SECRET"]
    monkeypatch.setenv("ALIYUN_ACCESS_KEY_SECRET", "not-the-secret")
    failed = reconciler(capsys, "apply", str(example), "--auto-approve")
    # the custom layouts are rejected; the tasks that need them are not attempted, so never sent
    assert failed.code == 1 and "Apply: 0 succeeded, 4 failed (2 not sent, 2 rejected)" in failed.out
    assert "FAILED (rejected) Layout/speaker-plus-3@ali-demo" in failed.out and "Request.IllegalSignature" in failed.out
    answered = control(vendors, "aliyun", "requests")["actions"]
    assert set(answered) == {"GetMPUTaskStatus", "DescribeMPULayoutInfoList"}  # reads only, all refused
    assert {o for outcomes in answered.values() for o in outcomes} == {"error:Request.IllegalSignature"}
    assert tasks(vendors, "aliyun") == {}
    store = open_state(f"sqlite:///{tmp_path}/.reconciler/state.db")
    assert all(record.intent is None for record in store.records().values())  # rejected: nothing uncertain
    store.close()
    monkeypatch.setenv("ALIYUN_ACCESS_KEY_SECRET", secret)
    plan = reconciler(capsys, "plan", str(example), "--detailed-exitcode")
    assert plan.code == 2 and "interrupted" not in plan.out + plan.err
    assert reconciler(capsys, "apply", str(example), "--auto-approve").code == 0
    assert len(tasks(vendors, "aliyun")) == 2 and actions(vendors, "aliyun")["StartMPUTask"] == 2


def test_an_unanswered_start_never_blocks_plan_and_apply_asks_before_writing(
        vendors: EmulatorCluster, tmp_path: Path) -> None:
    example = copy_example("aliyun", tmp_path)
    store = open_state(f"sqlite:///{tmp_path}/state.db")
    targets = PlanOptions(targets=frozenset({TOWNHALL}))
    # the start takes effect but its answer is lost, and Aliyun then cannot be asked about it
    control(vendors, "aliyun", "faults", [
        {"action": "StartMPUTask", "type": "lost-response", "count": 1},
        {"action": "GetMPUTaskStatus", "type": "error", "code": "ServiceUnavailable", "status": 503, "count": 100},
    ])
    first = asyncio.run(apply_manifests([example], store, options(), targets))
    assert townhall(first) == (False, "unknown")
    record = store.get(TOWNHALL)
    assert record is not None and record.intent is not None and record.intent.operation == "create"
    assert len(tasks(vendors, "aliyun")) == 1  # it did start

    planned = asyncio.run(plan_manifests([example], store, options(), targets))  # not refused
    [change] = [c for c in planned.plan.changes if c.address == TOWNHALL]
    assert any("unknown outcome" in reason for reason in change.reasons)
    assert any("has an unknown outcome" in warning for warning in planned.plan.warnings)

    starts = actions(vendors, "aliyun")["StartMPUTask"]
    second = asyncio.run(apply_manifests([example], store, options(), targets))
    assert townhall(second) == (False, "not sent")
    assert actions(vendors, "aliyun")["StartMPUTask"] == starts  # nothing written while Aliyun cannot answer

    clear_faults(vendors, "aliyun")  # Aliyun answers again
    third = asyncio.run(apply_manifests([example], store, options(), targets))
    assert any("adopted (no second start)" in message for message in third.recovered)
    assert actions(vendors, "aliyun")["StartMPUTask"] == starts and len(tasks(vendors, "aliyun")) == 1
    record = store.get(TOWNHALL)
    assert record is not None and record.intent is None and record.lifecycle == "active"
    store.close()


def test_preflight_with_only_aliyun_credentials_sends_nothing_and_names_every_missing_one(
        vendors: EmulatorCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    paths = [str(copy_example(name, tmp_path)) for name in ("aliyun", "anyrtc", "zego", "tencent")]
    for name in list(os.environ):
        if name.startswith(("ANYRTC_", "ZEGO_", "TENCENT_")):
            monkeypatch.delenv(name)
    result = reconciler(capsys, "apply", *paths, "--auto-approve")
    assert result.code == 1
    assert "apply cannot start; nothing was sent to any vendor" in result.err
    for variable in ("ANYRTC_CUSTOMER_ID", "ANYRTC_CUSTOMER_SECRET", "ANYRTC_STORAGE_ACCESS_KEY",
                     "ANYRTC_STORAGE_SECRET_KEY", "ZEGO_SERVER_SECRET", "TENCENT_SECRET_KEY"):
        assert f"environment variable {variable} is not set" in result.err
    assert "ALIYUN_" not in result.err
    assert total_requests(vendors) == {vendor: 0 for vendor in vendor_names()}
    assert reconciler(capsys, "state", "list").out == "serial 0, 0 resource(s)\n"


def test_preflight_refuses_an_unreachable_endpoint_before_writing_anywhere(
        vendors: EmulatorCluster, tmp_path: Path) -> None:
    aliyun, zego = copy_example("aliyun", tmp_path), copy_example("zego", tmp_path)
    store = open_state(f"sqlite:///{tmp_path}/state.db")
    endpoints = {**load_endpoints_file(None), "zego": f"http://127.0.0.1:{closed_port()}"}
    with pytest.raises(PreflightError) as caught:
        asyncio.run(apply_manifests([aliyun, zego], store, options(endpoint_overrides=endpoints), PlanOptions()))
    assert f"Provider/zego-demo: endpoint {endpoints['zego']} cannot be reached" in str(caught.value)
    assert total_requests(vendors) == {vendor: 0 for vendor in vendor_names()}
    assert store.records() == {}
    store.close()
