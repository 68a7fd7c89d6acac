"""Executing a Plan: every vendor write bracketed by an intent and an outcome in the state store.

Changes to different resources run concurrently (at most `concurrency` per provider and action, so
one action paced at its limit never holds the slots another needs; how many of their HTTP exchanges
are in flight to one endpoint is learnt from round trips, see inflight.py), except that a change
waits for the changes named in its `wait_for` (and is not attempted when one of them failed);
how fast calls reach one vendor credential is decided by the providers' token buckets, seeded from
the vendor's documented limits, so a large apply is paced rather than throttled.

A failed write has one of three outcomes (`errors.outcome_of`): *not sent* and *rejected* clear the
intent (nothing changed at the vendor), *unknown* keeps it, so the next run asks the vendor first.
A resource whose earlier write is still of unknown outcome (the vendor could not be asked during
refresh) gets no new write at all.

The caller follows the apply as it goes (`on_start`, `on_result`) and can ask it to stop
(`should_stop`): no new change starts, the ones in flight finish and record their outcome, and the
rest are reported as not started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.capabilities import capabilities
from reconciler.errors import NOT_SENT, UNKNOWN, ReconcilerError, VendorError, outcome_of
from reconciler.plan.planner import RESUME_AFTER_UPDATE
from reconciler.plan.types import Action, Change, Plan
from reconciler.providers.base import Provider
from reconciler.records import Intent, Observation, ResourceRecord
from reconciler.secrets import REDACTOR
from reconciler.state.base import StateStore, utc_now

DEFAULT_CONCURRENCY = 64  # changes in progress; exchanges in flight per endpoint adapt below it (inflight.py)


@dataclass(frozen=True)
class ChangeResult:
    address: str
    verb: str
    ok: bool
    message: str = ""
    handles: Mapping[str, str] = field(default_factory=dict)
    outcome: str = ""  # for a failure: not sent | rejected | unknown (see errors.outcome_of)


@dataclass
class ApplyResult:
    results: list[ChangeResult] = field(default_factory=list)
    not_started: list[str] = field(default_factory=list)  # addresses left alone because a stop was asked

    @property
    def interrupted(self) -> bool:
        return bool(self.not_started)

    @property
    def failed(self) -> list[ChangeResult]:
        return [r for r in self.results if not r.ok]


ApplyEvents = Callable[[ChangeResult], None]


async def execute_plan(
    plan: Plan,
    store: StateStore,
    providers: Mapping[str, Provider],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_result: ApplyEvents = lambda _r: None,
    on_start: Callable[[Change], None] = lambda _c: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> ApplyResult:
    result = ApplyResult()
    # one bound per provider and action: a thousand updates paced at 20/s must not hold every slot
    # while stops (their own 20/s) or another credential's changes wait behind them
    gates: dict[tuple[str, str], asyncio.Semaphore] = {}
    done = {c.address: asyncio.Event() for c in plan.pending()}
    succeeded: set[str] = set()

    async def run(change: Change) -> None:
        try:
            failed = []
            for address in change.wait_for:  # e.g. a task's custom layout exists before the task uses it
                if address in done:
                    await done[address].wait()
                    if address not in succeeded:
                        failed.append(address)
            if should_stop():
                result.not_started.append(change.address)
                return
            if failed:
                outcome = ChangeResult(change.address, change.display_action, False,
                                       f"not attempted: {', '.join(failed)} did not succeed first",
                                       outcome=NOT_SENT)
            else:
                key = (change.provider, change.display_action)
                if key not in gates:
                    gates[key] = asyncio.Semaphore(concurrency)
                async with gates[key]:
                    if should_stop():
                        result.not_started.append(change.address)
                        return
                    on_start(change)
                    try:
                        handles = await _execute(change, store, providers)
                        outcome = ChangeResult(change.address, change.display_action, True, "done", handles)
                        succeeded.add(change.address)
                    except ReconcilerError as exc:
                        outcome = ChangeResult(change.address, change.display_action, False, REDACTOR(str(exc)),
                                               outcome=outcome_of(exc))
            result.results.append(outcome)
            on_result(outcome)
        finally:
            done[change.address].set()

    await asyncio.gather(*(run(c) for c in plan.pending()))
    result.results.sort(key=lambda r: r.address)
    result.not_started.sort()
    return result


def _record_for(change: Change, store: StateStore) -> ResourceRecord:
    return store.get(change.address) or ResourceRecord(
        address=change.address, kind=change.kind, name=change.name, provider=change.provider,
        vendor=change.vendor, deletion_policy=change.deletion_policy,
    )


def _provider(change: Change, providers: Mapping[str, Provider]) -> Provider:
    provider = providers.get(change.provider)
    if provider is None:
        raise ReconcilerError(
            f"{change.address}: Provider/{change.provider} is not in the manifests; add it back to manage this job"
        )
    return provider


async def _execute(change: Change, store: StateStore, providers: Mapping[str, Provider]) -> Mapping[str, str]:
    if change.action is Action.FORGET:
        store.forget(change.address)
        return {}
    provider = _provider(change, providers)
    record = _record_for(change, store)
    if record.intent is not None:
        raise VendorError(
            change.vendor, "OutcomeUnknown",
            f"{change.address}: an earlier {record.intent.operation} (at {record.intent.started_at}) has an unknown "
            f"outcome and {change.vendor} could not be asked about it, so nothing was sent; apply again when "
            f"{change.vendor} answers", transient=False, action=change.display_action, outcome=NOT_SENT)
    if change.action is Action.CREATE:
        return await _start(change, record, store, provider)
    if change.action is Action.REPLACE:
        await _stop(change, record, store, provider, forget=False)
        return await _start(change, _record_for(change, store), store, provider)
    if change.action is Action.STOP:
        await _stop(change, record, store, provider, forget=change.orphan)
        return {}
    if change.action is Action.UPDATE:
        return await _update(change, record, store, provider)
    if change.action in (Action.RESUME, Action.PAUSE):
        return await _lifecycle(change, record, store, provider)
    raise ReconcilerError(f"{change.address}: nothing to do for action {change.action.value}")


def _intent(operation: str, change: Change, handles: Mapping[str, str], spec: Mapping[str, Any] | None,
            lifecycle: str, generation: int) -> Intent:
    return Intent(operation, dict(handles), spec, lifecycle, generation, utc_now())


async def _start(change: Change, record: ResourceRecord, store: StateStore, provider: Provider) -> Mapping[str, str]:
    assert change.after is not None
    spec = dict(change.after)
    handles = provider.new_handles(change.kind, change.name, spec, change.generation)
    store.record_intent(record, _intent("create", change, handles, spec, change.lifecycle, change.generation))
    learnt: dict[str, str] = dict(handles)

    def save(more: Mapping[str, str]) -> None:
        new = {k: v for k, v in more.items() if learnt.get(k) != v}
        if not new:
            return  # already in the intent (a TaskId chosen before the call): no extra transaction
        learnt.update(new)
        store.save_handles(change.address, new)

    try:
        final = dict(await provider.start(change.kind, handles, spec, save))
    except ReconcilerError as exc:
        outcome = outcome_of(exc)
        if outcome == NOT_SENT:
            store.clear_intent(change.address)
            raise
        observed = await _observe_quietly(provider, change.kind, learnt, spec)
        if observed is None and outcome == UNKNOWN:
            # keep the intent: the next run asks the vendor before anything is started again
            raise VendorError(
                change.vendor, "OutcomeUnknown",
                f"{change.address}: start sent but not answered ({exc}) and the vendor cannot tell whether the job "
                "exists; the next plan or apply will ask it first, so re-running is safe",
                transient=False, action="start", outcome=UNKNOWN) from exc
        if observed is None or not observed.running:
            store.clear_intent(change.address)
            raise
        final = {**learnt, **observed.handles}  # the start went through although its answer was lost
    if change.lifecycle == "paused":
        await provider.pause(change.kind, final, spec)
    store.record_outcome(change.address, handles=final, generation=change.generation, last_applied=spec,
                         lifecycle=change.lifecycle, deletion_policy=change.deletion_policy)
    return final


async def _stop(change: Change, record: ResourceRecord, store: StateStore, provider: Provider, *,
                forget: bool) -> None:
    handles = dict(record.handles or change.handles)
    store.record_intent(record, _intent("stop", change, handles, record.last_applied, "inactive", record.generation))
    try:
        await provider.stop(change.kind, handles, record.last_applied)
    except ReconcilerError as exc:
        _settle_failure(store, change.address, exc)
        raise
    if forget:
        store.forget(change.address)
    else:
        store.record_outcome(change.address, handles=handles, generation=record.generation,
                             last_applied=record.last_applied, lifecycle="inactive",
                             deletion_policy=record.deletion_policy)


async def _update(change: Change, record: ResourceRecord, store: StateStore, provider: Provider) -> Mapping[str, str]:
    assert change.after is not None
    spec = dict(change.after)
    handles = dict(record.handles or change.handles)
    store.record_intent(record, _intent("update", change, handles, spec, change.lifecycle, record.generation))
    groups = tuple(g for g in change.update_groups if g != RESUME_AFTER_UPDATE)
    try:
        handles = {**handles, **(await provider.update(change.kind, handles, spec, groups) or {})}
        if RESUME_AFTER_UPDATE in change.update_groups:
            await provider.resume(change.kind, handles, spec)
        if change.lifecycle != record.lifecycle:
            if change.lifecycle == "paused":
                await provider.pause(change.kind, handles, spec)
            elif change.lifecycle == "active" and record.lifecycle == "paused":
                await provider.resume(change.kind, handles, spec)
    except ReconcilerError as exc:
        _settle_failure(store, change.address, exc)
        raise
    store.record_outcome(change.address, handles=handles, generation=record.generation, last_applied=spec,
                         lifecycle=change.lifecycle, deletion_policy=change.deletion_policy)
    return handles


async def _lifecycle(change: Change, record: ResourceRecord, store: StateStore, provider: Provider) -> Mapping[str, str]:
    caps = capabilities(change.vendor, change.kind)
    handles = dict(record.handles or change.handles)
    spec = dict(change.after) if change.after is not None else record.last_applied
    operation = change.action.value
    if change.action is Action.RESUME and caps.deactivate_is_resume:
        lifecycle = "inactive"  # lifting a ban
    elif change.action is Action.PAUSE:
        lifecycle = "paused"
    else:
        lifecycle = change.lifecycle or "active"
    store.record_intent(record, _intent(operation, change, handles, spec, lifecycle, record.generation))
    try:
        if change.action is Action.PAUSE:
            await provider.pause(change.kind, handles, spec)
        else:
            await provider.resume(change.kind, handles, spec)
    except ReconcilerError as exc:
        _settle_failure(store, change.address, exc)
        raise
    if change.orphan:
        store.forget(change.address)
    else:
        store.record_outcome(change.address, handles=handles, generation=record.generation, last_applied=spec,
                             lifecycle=lifecycle, deletion_policy=change.deletion_policy)
    return handles


def _settle_failure(store: StateStore, address: str, exc: ReconcilerError) -> None:
    """Not sent or rejected: nothing changed at the vendor, so no intent stays behind. Unknown: the
    intent stays, and the next run observes before it writes."""
    if outcome_of(exc) != UNKNOWN:
        store.clear_intent(address)


async def _observe_quietly(provider: Provider, kind: str, handles: Mapping[str, str],
                           spec: Mapping[str, Any]) -> Observation | None:
    try:
        return await provider.observe(kind, handles, spec)
    except ReconcilerError:
        return None
