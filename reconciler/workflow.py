"""The reconcile workflow the CLI (and watch mode) drive: load, refresh, plan, apply.

Each step is a function returning data; printing and exit codes stay in the CLI.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from reconciler.apply.connections import ConnectionOptions, VendorConnections
from reconciler.apply.executor import DEFAULT_CONCURRENCY, ApplyEvents, ApplyResult, execute_plan
from reconciler.apply.preflight import preflight
from reconciler.apply.refresh import RefreshResult, refresh
from reconciler.errors import PlanError
from reconciler.model.desired import DesiredResource, Lifecycle
from reconciler.model.manifest import ManifestSet, Resource, load_manifests, manifest_digests
from reconciler.model.provider import ProviderSpec
from reconciler.model.source import Position, SourceMap
from reconciler.plan.guard import check_targets
from reconciler.plan.planner import Diffed, PlanOptions, diff_now, make_plan
from reconciler.plan.serialize import ManifestRecord, SavedPlan, observation_changes, plan_to_dict
from reconciler.plan.types import PLAN_FORMAT_VERSION, Action, Change, Plan
from reconciler.providers.base import EventSink
from reconciler.records import Intent, Observation, ResourceRecord
from reconciler.state.base import StateStore, locked, utc_now

LOG = logging.getLogger("reconciler.workflow")


@dataclass
class PlanOutcome:
    plan: Plan
    manifests: ManifestSet
    refreshed: RefreshResult


@dataclass(frozen=True)
class ApplyFollow:
    """How a caller follows and steers an apply: each change as it starts and finishes, what the
    providers wait for (retries), the moment execution begins, and a stop request."""

    on_execute: Callable[[Plan], None] = lambda _p: None
    on_start: Callable[[Change], None] = lambda _c: None
    on_result: ApplyEvents = lambda _r: None
    on_event: EventSink = lambda _m: None
    should_stop: Callable[[], bool] = lambda: False


@dataclass
class ApplyOutcome:
    plan: Plan
    result: ApplyResult | None  # None when nothing was applied (no changes, or not confirmed)
    recovered: list[str] = field(default_factory=list)


def validate(paths: Sequence[Path | str], connection_options: ConnectionOptions | None = None) -> ManifestSet:
    """Load the manifests, checking their references against the operator's allowances."""
    return load_manifests(paths, (connection_options or ConnectionOptions()).allowances(paths))


def read_manifests(paths: Sequence[Path | str], connection_options: ConnectionOptions) -> ManifestSet:
    """The manifests, their references checked against the operator's allowances."""
    manifests = load_manifests(paths, connection_options.allowances(paths))
    LOG.info("read %d manifest file(s), %d resource(s)", len(manifests.files), len(manifests.resources))
    return manifests


async def build_plan(
    manifests: ManifestSet,
    store: StateStore,
    connections: VendorConnections,
    options: PlanOptions,
) -> PlanOutcome:
    records = store.records()
    serial = store.serial()
    every = manifests.desired()  # built once: it normalises every resource
    if options.targets:
        check_targets(options.targets, {d.address for d in every} | set(records))
    LOG.info("observing %d job(s) the state knows (state serial %d)", len(records), serial)
    desired = [d for d in every if not options.targets or d.address in options.targets]
    wanted = {d.address: d for d in every}
    diffed: dict[str, Diffed] = {}

    def settled(address: str, record: ResourceRecord | None, observation: Observation | None) -> None:
        if address in wanted:  # diff it now, while the other observations are still on their way
            diffed[address] = diff_now(wanted[address], record, observation)

    refreshed = await refresh(records, connections.providers, desired=desired, on_settled=settled)
    warnings = [f"{r.address}: {r.message}" for r in refreshed.recoveries] + refreshed.warnings
    plan = make_plan(
        every, refreshed.records, refreshed.observations,
        state_serial=serial, manifest_fingerprint=manifests.fingerprint, created_at=utc_now(),
        options=options, warnings=tuple(warnings), diffed=diffed,
    )
    return PlanOutcome(plan, manifests, refreshed)


async def plan_manifests(
    paths: Sequence[Path | str], store: StateStore, connection_options: ConnectionOptions, options: PlanOptions,
) -> PlanOutcome:
    manifests = read_manifests(paths, connection_options)
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
    follow: ApplyFollow | None = None,
) -> ApplyOutcome:
    """Plan and apply under the state lock, so nobody changes state between the two."""
    manifests = read_manifests(paths, connection_options)
    follow = follow or ApplyFollow(on_result=on_result)
    with locked(store):
        async with VendorConnections(manifests, connection_options, sequences=store.next_sequence,
                                     events=follow.on_event) as connections:
            await preflight(connections.providers, _needs(manifests, store.records(), options))
            outcome = await build_plan(manifests, store, connections, options)
            recovered = _persist_recoveries(store, outcome.refreshed)
            if recovered:
                # recoveries changed the state serial; plan again so the plan matches what is stored
                outcome = await build_plan(manifests, store, connections, options)
            on_plan(outcome.plan)
            if not outcome.plan.has_changes or not confirm(outcome.plan):
                return ApplyOutcome(outcome.plan, None, recovered)
            result = await _execute(outcome.plan, store, connections, concurrency, follow)
            return ApplyOutcome(outcome.plan, result, recovered)


def _desired_of(change: Change) -> DesiredResource:
    """The desired state a saved change was planned from (its `after` spec)."""
    assert change.after is not None
    lifecycle: Lifecycle = "paused" if change.lifecycle == "paused" else (
        "inactive" if change.lifecycle == "inactive" else "active")
    policy: Literal["Delete", "Retain"] = "Retain" if change.deletion_policy == "Retain" else "Delete"
    return DesiredResource(address=change.address, kind=change.kind, name=change.name, provider=change.provider,
                           vendor=change.vendor, lifecycle=lifecycle, spec=change.after, deletion_policy=policy)


def _needs(manifests: ManifestSet, records: Mapping[str, ResourceRecord],
           options: PlanOptions) -> dict[str, list[Mapping[str, Any] | None]]:
    """Provider name -> the specs apply may write for it: every resource it plans (preflight)."""
    needs: dict[str, list[Mapping[str, Any] | None]] = {}
    for wanted in manifests.desired():
        if not options.targets or wanted.address in options.targets:
            needs.setdefault(wanted.provider, []).append(wanted.spec)
    for address, record in records.items():
        if not options.targets or address in options.targets:
            needs.setdefault(record.provider, []).append(record.last_applied)
    return needs


async def _execute(plan: Plan, store: StateStore, connections: VendorConnections, concurrency: int,
                   follow: ApplyFollow) -> ApplyResult:
    follow.on_execute(plan)
    return await execute_plan(plan, store, connections.providers, concurrency=concurrency,
                              on_result=follow.on_result, on_start=follow.on_start, should_stop=follow.should_stop)


def _persist_recoveries(store: StateStore, refreshed: RefreshResult) -> list[str]:
    messages = []
    for recovery in refreshed.recoveries:
        record = recovery.record
        if store.get(record.address) is None:  # found at the vendor by discovery: a new record
            store.record_intent(record, Intent("adopt", dict(record.handles), record.last_applied,
                                               record.lifecycle, record.generation, utc_now()))
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


# -- saved plans ---------------------------------------------------------------------------------
def plan_document(outcome: PlanOutcome) -> dict[str, Any]:
    """The plan as `plan --out` saves it: the plan plus what `apply plan.json` re-checks and needs."""
    providers = {
        r.name: r.spec.model_dump(mode="json", by_alias=True, exclude_none=True)
        for r in outcome.manifests.of_kind("Provider")
    }
    manifests = outcome.manifests
    record = ManifestRecord(tuple(manifests.roots), dict(manifests.digests), manifests.fingerprint)
    return plan_to_dict(outcome.plan, observed=outcome.refreshed.observations, providers=providers,
                        manifests=record, secret_files=manifests.secret_files)


def check_manifests(saved: SavedPlan) -> None:
    """Refuse a saved plan unless the manifests under its recorded paths, read from the current checkout
    (relative paths: the working directory), are byte for byte the ones it was made from."""
    assert saved.manifests is not None
    changed = saved.manifests.differences(manifest_digests(saved.manifests.roots))
    if changed:
        raise PlanError(
            "the plan was made from other manifests than the ones here:\n  " + "\n  ".join(changed[:20])
            + (f"\n  ... and {len(changed) - 20} more" if len(changed) > 20 else "")
            + "\napplying it would undo what these manifests say; plan from this checkout "
              "(`reconciler plan PATHS --out FILE`), review that plan and apply it"
        )


def saved_plan_providers(saved: SavedPlan) -> ManifestSet:
    """A manifest set holding only the saved Provider specs: enough to reach the vendors."""
    assert saved.providers is not None
    manifests = ManifestSet(fingerprint=saved.plan.manifest_fingerprint)
    # the files located when the plan was made (allowed root + path below it), so any directory works
    manifests.secret_files = {name: dict(files) for name, files in (saved.secret_files or {}).items()}
    for name, data in saved.providers.items():
        spec = ProviderSpec.model_validate(data)
        source = SourceMap("saved plan", Position(1, 1))
        manifests.resources[("Provider", name)] = Resource("Provider", name, spec, source)
    return manifests


async def apply_saved_plan(
    saved: SavedPlan,
    store: StateStore,
    connection_options: ConnectionOptions,
    *,
    on_plan: Callable[[Plan], None] = lambda _p: None,
    on_result: ApplyEvents = lambda _r: None,
    concurrency: int = DEFAULT_CONCURRENCY,
    follow: ApplyFollow | None = None,
) -> ApplyOutcome:
    """Apply exactly the saved changes, under the lock, after proving the plan is still true:
    the state serial is the one planned against, and every job the plan touches is reported by its
    vendor as it was at plan time."""
    if not saved.appliable or saved.plan.format_version != PLAN_FORMAT_VERSION:
        raise PlanError(
            "this plan file cannot be applied: it lacks the observations, Provider settings or manifest digests "
            "apply checks "
            f"(format_version {saved.plan.format_version}); write it with `reconciler plan PATHS --out FILE`"
        )
    assert saved.observed is not None
    check_manifests(saved)
    manifests = saved_plan_providers(saved)
    follow = follow or ApplyFollow(on_result=on_result)
    with locked(store):
        check_fresh(saved.plan, store)
        if not saved.plan.has_changes:
            on_plan(saved.plan)
            return ApplyOutcome(saved.plan, None)
        async with VendorConnections(manifests, connection_options, sequences=store.next_sequence,
                                     events=follow.on_event) as connections:
            needs: dict[str, list[Mapping[str, Any] | None]] = {}
            for change in saved.plan.pending():
                if change.action is not Action.FORGET:
                    needs.setdefault(change.provider, []).append(change.after or change.before)
            await preflight(connections.providers, needs)
            touched = sorted(c.address for c in saved.plan.pending())
            records = {a: r for a, r in store.records().items() if a in touched}
            # jobs the plan found at the vendor without a record (a lost state) are looked up again
            unknown = [_desired_of(c) for c in saved.plan.pending() if c.after is not None and c.address not in records]
            refreshed = await refresh(records, connections.providers, desired=unknown)
            recovered = _persist_recoveries(store, refreshed)
            changed = observation_changes(saved.observed, refreshed.observations, touched)
            if changed:
                raise PlanError(
                    "the plan is stale: the live state changed since it was made:\n  " + "\n  ".join(changed)
                    + "\nrun `reconciler plan --out` again and review the new plan"
                )
            on_plan(saved.plan)
            result = await _execute(saved.plan, store, connections, concurrency, follow)
            return ApplyOutcome(saved.plan, result, recovered)
