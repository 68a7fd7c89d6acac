"""The reconcile workflow the CLI (and watch mode) drive: load, refresh, plan, apply.

Each step is a function returning data; printing and exit codes stay in the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.apply.connections import ConnectionOptions, VendorConnections
from reconciler.apply.executor import DEFAULT_CONCURRENCY, ApplyEvents, ApplyResult, execute_plan
from reconciler.apply.refresh import RefreshResult, refresh
from reconciler.errors import PlanError
from reconciler.model.manifest import ManifestSet, load_manifests
from reconciler.plan.planner import PlanOptions, make_plan
from reconciler.plan.types import Plan
from reconciler.state.base import StateStore, locked, utc_now


@dataclass
class PlanOutcome:
    plan: Plan
    manifests: ManifestSet
    refreshed: RefreshResult


@dataclass
class ApplyOutcome:
    plan: Plan
    result: ApplyResult | None  # None when nothing was applied (no changes, or not confirmed)
    recovered: list[str] = field(default_factory=list)


def validate(paths: Sequence[Path | str]) -> ManifestSet:
    return load_manifests(paths)


async def build_plan(
    manifests: ManifestSet,
    store: StateStore,
    connections: VendorConnections,
    options: PlanOptions,
) -> PlanOutcome:
    records = store.records()
    serial = store.serial()
    refreshed = await refresh(records, connections.providers)
    warnings = [f"{r.address}: {r.message}" for r in refreshed.recoveries] + refreshed.warnings
    plan = make_plan(
        manifests.desired(), refreshed.records, refreshed.observations,
        state_serial=serial, manifest_fingerprint=manifests.fingerprint, created_at=utc_now(),
        options=options, warnings=tuple(warnings),
    )
    return PlanOutcome(plan, manifests, refreshed)


async def plan_manifests(
    paths: Sequence[Path | str], store: StateStore, connection_options: ConnectionOptions, options: PlanOptions,
) -> PlanOutcome:
    manifests = load_manifests(paths)
    async with VendorConnections(manifests, connection_options, sequences=store.next_sequence) as connections:
        return await build_plan(manifests, store, connections, options)


async def apply_manifests(
    paths: Sequence[Path | str],
    store: StateStore,
    connection_options: ConnectionOptions,
    options: PlanOptions,
    *,
    confirm: Callable[[Plan], bool] = lambda _p: True,
    on_plan: Callable[[Plan], None] = lambda _p: None,
    on_result: ApplyEvents = lambda _r: None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> ApplyOutcome:
    """Plan and apply under the state lock, so nobody changes state between the two."""
    manifests = load_manifests(paths)
    with locked(store):
        async with VendorConnections(manifests, connection_options, sequences=store.next_sequence) as connections:
            outcome = await build_plan(manifests, store, connections, options)
            recovered = _persist_recoveries(store, outcome.refreshed)
            if recovered:
                # recoveries changed the state serial; plan again so the plan matches what is stored
                outcome = await build_plan(manifests, store, connections, options)
            on_plan(outcome.plan)
            if not outcome.plan.has_changes or not confirm(outcome.plan):
                return ApplyOutcome(outcome.plan, None, recovered)
            result = await execute_plan(outcome.plan, store, connections.providers,
                                        concurrency=concurrency, on_result=on_result)
            return ApplyOutcome(outcome.plan, result, recovered)


def _persist_recoveries(store: StateStore, refreshed: RefreshResult) -> list[str]:
    messages = []
    for recovery in refreshed.recoveries:
        record = recovery.record
        store.record_outcome(record.address, handles=record.handles, generation=record.generation,
                             last_applied=record.last_applied, lifecycle=record.lifecycle,
                             deletion_policy=record.deletion_policy)
        messages.append(f"{recovery.address}: {recovery.message}")
    return messages


def check_fresh(plan: Plan, store: StateStore) -> None:
    """Refuse a saved plan when the state moved on since it was made."""
    serial = store.serial()
    if serial != plan.state_serial:
        raise PlanError(
            f"the plan is stale: it was made against state serial {plan.state_serial}, the state is now at "
            f"{serial} (another apply ran since); run `reconciler plan --out` again"
        )
