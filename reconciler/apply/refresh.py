"""Refresh: observe every job the state knows, and resolve writes a crash left half done.

An intent still in state means a vendor write started and its outcome was never recorded. We ask
the vendor what is true and decide without guessing: a start whose job runs is adopted, a start
whose job does not exist is dropped (nothing runs, so nothing is orphaned), and any other
operation is dropped so the planner issues it again (updates, stops, resumes are idempotent).
Refresh returns what it decided; only `apply`, under the lock, writes it to the state store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.errors import ReconcilerError, VendorError
from reconciler.providers.base import Provider
from reconciler.records import Observation, ResourceRecord


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


async def refresh(
    records: Mapping[str, ResourceRecord],
    providers: Mapping[str, Provider],
    *,
    concurrency: int = 16,
) -> RefreshResult:
    result = RefreshResult(records=dict(records), observations={})
    gate = asyncio.Semaphore(concurrency)

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
            if record.handles:
                try:
                    result.observations[record.address] = await provider.observe(
                        record.kind, record.handles, record.last_applied)
                except VendorError as exc:
                    if not exc.transient:
                        raise
                    result.warnings.append(f"{record.address}: could not observe ({exc}); assuming the last applied state")
                    result.observations[record.address] = Observation("unknown", detail=str(exc))

    await asyncio.gather(*(one(r) for r in records.values()))
    return result


async def _recover(record: ResourceRecord, provider: Provider, result: RefreshResult) -> None:
    intent = record.intent
    assert intent is not None
    try:
        observed = await provider.observe(record.kind, intent.handles, intent.spec)
    except VendorError as exc:
        raise ReconcilerError(
            f"{record.address}: an earlier apply was interrupted during {intent.operation} and the vendor cannot "
            f"be asked what happened ({exc}); run plan again when {record.vendor} answers"
        ) from exc
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
