"""Refresh: observe every job the state knows, and resolve writes a crash left half done.

An intent still in state means a vendor write started and its outcome was never recorded. We ask
the vendor what is true and decide without guessing: a start whose job runs is adopted, a start
whose job does not exist is dropped (nothing runs, so nothing is orphaned), and any other
operation is dropped so the planner issues it again (updates, stops, resumes are idempotent).
When the vendor cannot be asked, the intent stays: the plan is made all the same and shows it, and
apply writes nothing to that resource until the vendor answers.
Refresh returns what it decided; only `apply`, under the lock, writes it to the state store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from reconciler.errors import ReconcilerError, VendorError
from reconciler.model.desired import DesiredResource
from reconciler.providers.base import Provider
from reconciler.records import Discovery, Observation, ResourceRecord


@dataclass(frozen=True)
class Recovery:
    address: str
    message: str
    record: ResourceRecord  # the record as it should be stored now


@dataclass
class RefreshResult:
    records: dict[str, ResourceRecord]
    observations: dict[str, Observation]
    recoveries: list[Recovery] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unresolved: set[str] = field(default_factory=set)  # intents whose outcome the vendor could not tell


async def refresh(
    records: Mapping[str, ResourceRecord],
    providers: Mapping[str, Provider],
    *,
    desired: Iterable[DesiredResource] = (),
    concurrency: int = 64,
    on_settled: Callable[[str, ResourceRecord | None, Observation | None], None] = lambda _a, _r, _o: None,
) -> RefreshResult:
    """Observe every record; for each desired resource the state has no job for, ask the vendor
    whether one runs under the ids derived from the manifests (a lost or new state). `on_settled`
    hears each address whose record and observation are known, while other calls are in flight."""
    result = RefreshResult(records=dict(records), observations={})

    def settled(address: str) -> None:
        on_settled(address, result.records.get(address), result.observations.get(address))

    gate = asyncio.Semaphore(concurrency)

    async def find(wanted: DesiredResource) -> None:
        provider = providers.get(wanted.provider)
        if provider is None:
            return
        async with gate:
            try:
                found = await provider.discover(wanted.kind, wanted.name, wanted.spec)
            except ReconcilerError as exc:  # best effort: a start still meets the vendor's own duplicate check
                result.warnings.append(f"{wanted.address}: could not ask {wanted.vendor} whether it already runs "
                                       f"({exc}); a start will ask again before creating anything")
                return
        if found is not None:
            _adopt(wanted, found, result)
        settled(wanted.address)

    async def one(record: ResourceRecord) -> None:
        provider = providers.get(record.provider)
        if provider is None:
            result.warnings.append(
                f"{record.address}: its Provider/{record.provider} is no longer in the manifests, so its job at "
                f"{record.vendor} cannot be observed; keep the Provider until the job is stopped"
            )
            return
        async with gate:
            if record.intent is not None:
                await _recover(record, provider, result)
                record = result.records[record.address]
            if record.handles and record.address not in result.unresolved:
                try:
                    result.observations[record.address] = await provider.observe(
                        record.kind, record.handles, record.last_applied)
                except VendorError as exc:
                    if not exc.transient:
                        raise
                    result.warnings.append(f"{record.address}: could not observe ({exc}); assuming the last applied state")
                    result.observations[record.address] = Observation("unknown", detail=str(exc))
        settled(record.address)

    unknown = [d for d in desired if (r := records.get(d.address)) is None or (not r.handles and r.intent is None)]
    await asyncio.gather(*(one(r) for r in records.values()), *(find(d) for d in unknown))
    return result


def _adopt(wanted: DesiredResource, found: Discovery, result: RefreshResult) -> None:
    """Remember what discovery found, so the plan continues from the vendor's newest generation."""
    seen = found.observation
    previous = result.records.get(wanted.address)
    ids = ", ".join(f"{k} {v}" for k, v in sorted(seen.handles.items()))
    record = ResourceRecord(
        address=wanted.address, kind=wanted.kind, name=wanted.name, provider=wanted.provider, vendor=wanted.vendor,
        handles=dict(seen.handles), generation=found.generation, deletion_policy=wanted.deletion_policy,
        serial=previous.serial if previous else 0,
        # what the vendor cannot report is taken from the manifest, except what can be changed in
        # place: left unknown, so the plan sets it again
        last_applied={k: v for k, v in wanted.spec.items() if k not in found.unreadable},
        lifecycle="active" if seen.running else "inactive",
    )
    if seen.running:
        message = (f"not in state, but found running at {wanted.vendor} as {ids} (generation {found.generation}) "
                   "by asking for the ids derived from the manifests; adopted, no second start")
        if found.unreadable:
            message += f". The vendor cannot report its {', '.join(found.unreadable)}, so that is set again"
    else:
        message = (f"not in state; {wanted.vendor} knows it up to generation {found.generation} ({ids}, "
                   f"{seen.detail or 'not running'}), so a start uses generation {found.generation + 1}")
    result.records[wanted.address] = record
    result.observations[wanted.address] = seen
    result.recoveries.append(Recovery(wanted.address, message, record))


async def _recover(record: ResourceRecord, provider: Provider, result: RefreshResult) -> None:
    intent = record.intent
    assert intent is not None
    try:
        observed = await provider.observe(record.kind, intent.handles, intent.spec)
    except ReconcilerError as exc:
        # the plan still gets made: it shows the uncertainty, and apply writes nothing to this
        # resource until the vendor answers (see apply/executor.py)
        result.warnings.append(
            f"{record.address}: an earlier {intent.operation} (at {intent.started_at}) has an unknown outcome and "
            f"{record.vendor} cannot be asked now ({exc}); apply asks it again before writing to this resource")
        result.observations[record.address] = Observation("unknown", detail=f"outcome of an earlier "
                                                          f"{intent.operation} unknown: {exc}")
        result.unresolved.add(record.address)
        return
    if intent.operation == "create":
        if observed.status == "unknown":
            recovered = record.with_changes(intent=None)
            message = ("an interrupted start cannot be confirmed: the vendor does not report this job "
                       f"({observed.detail or 'no detail'}); the next start asks the vendor before creating anything")
        elif observed.running:
            handles = {**intent.handles, **observed.handles}
            recovered = record.with_changes(handles=handles, generation=intent.generation, last_applied=intent.spec,
                                            lifecycle=intent.lifecycle, intent=None)
            message = "an interrupted start was found running at the vendor and adopted (no second start)"
        else:
            recovered = record.with_changes(intent=None)
            message = "an interrupted start never took effect at the vendor; it will be started normally"
    elif intent.operation == "stop":
        if not observed.running:
            recovered = record.with_changes(lifecycle="inactive", intent=None)
            message = "an interrupted stop had taken effect"
        else:
            recovered = record.with_changes(intent=None)
            message = "an interrupted stop had not taken effect; it will be planned again"
    else:
        recovered = record.with_changes(intent=None)
        message = f"an interrupted {intent.operation} will be planned again (the call is idempotent)"
    result.records[record.address] = recovered
    result.recoveries.append(Recovery(record.address, message, recovered))
