"""`reconciler import KIND/NAME VENDOR_ID [PATHS...]`: adopt a job that already runs at a vendor.

The resource must be in the manifests first (as with Terraform's import blocks): import records the
vendor's ids in state and observes the job, so the next plan compares it with the manifest instead
of starting a second job. What is stored as last applied (Terraform-style):
- a field the vendor reports: what the vendor reports (the plan shows any difference as an update);
- a field the vendor cannot report but can change in place (e.g. an Aliyun layout): left unknown, so
  the next plan shows an update of it and the next apply re-applies it once from the manifest;
- a field the vendor can neither report nor change in place (channel, output): assumed to be as
  the manifest says. Replacing a live job on a guess would interrupt it; if the guess is wrong,
  change the field in the manifest and apply (a replace) or stop the job and let apply start it.
A job the vendor does not know, or reports stopped, is refused: there is nothing to adopt.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from reconciler.apply.connections import ConnectionOptions, VendorConnections
from reconciler.capabilities import capabilities
from reconciler.commands.options import build_connection_options, connection_options, open_store, state_option
from reconciler.errors import ReconcilerError, StateError, VendorNotFound
from reconciler.model.desired import DesiredResource
from reconciler.model.manifest import load_manifests
from reconciler.records import Intent, Observation, ResourceRecord
from reconciler.state.base import StateStore, locked, utc_now


@dataclass(frozen=True)
class ImportResult:
    address: str
    vendor: str
    handles: Mapping[str, str]
    observation: Observation
    unknown: tuple[str, ...]  # spec keys the vendor cannot report: the next apply sets them once


def adopted_last_applied(desired: DesiredResource, observation: Observation) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The last-applied spec to record for an adopted job, and the keys left unknown (pure)."""
    caps = capabilities(desired.vendor, desired.kind)
    last: dict[str, Any] = {}
    unknown = []
    for key, value in desired.spec.items():
        if key in observation.fields:
            last[key] = observation.fields[key]
        elif key in caps.update_groups:
            unknown.append(key)
        else:
            last[key] = value
    return last, tuple(sorted(unknown))


async def import_resource(paths: Sequence[Path | str], address: str, vendor_id: str, store: StateStore,
                          connection_options: ConnectionOptions) -> ImportResult:
    manifests = load_manifests(paths, connection_options.allowances(paths))
    wanted = {d.address: d for d in manifests.desired()}
    desired = wanted.get(address)
    if desired is None:
        guesses = difflib.get_close_matches(address, list(wanted), n=1, cutoff=0.6)
        hint = f" (did you mean {guesses[0]!r}?)" if guesses else ""
        raise ReconcilerError(f"{address} is not a managed resource of the manifests{hint}; write its manifest "
                              "first (import adopts a job for a resource the manifests describe)")
    with locked(store, "import"):
        existing = store.get(address)
        if existing is not None and (existing.lifecycle != "inactive" or existing.intent is not None):
            ids = ", ".join(f"{k}={v}" for k, v in sorted(existing.handles.items())) or "no ids yet"
            raise StateError(f"{address} is already managed ({existing.lifecycle}, {ids}); "
                             f"`reconciler state show {address}` shows what state holds")
        async with VendorConnections(manifests, connection_options, sequences=store.next_sequence) as connections:
            provider = connections.get(desired.provider)
            assert provider is not None  # every Provider of the manifests has a connection
            imported = provider.import_handles(desired.kind, vendor_id)
            # ids the manifest determines (anyRTC channel, uid, mode) complete what the vendor id names
            handles = {**provider.new_handles(desired.kind, desired.name, desired.spec, 1), **imported}
            try:
                observation = await provider.observe(desired.kind, handles, desired.spec)
            except VendorNotFound as exc:
                observation = Observation("absent", exc.message)
        _refuse_unless_running(address, desired.vendor, vendor_id, observation)
        handles = {**handles, **observation.handles}
        last, unknown = adopted_last_applied(desired, observation)
        generation = max(1, existing.generation if existing else 0)
        record = ResourceRecord(address=address, kind=desired.kind, name=desired.name, provider=desired.provider,
                                vendor=desired.vendor, handles=handles, generation=generation, last_applied=last,
                                lifecycle=observation.status, deletion_policy=desired.deletion_policy)
        store.record_intent(record, Intent("import", handles, last, observation.status, generation, utc_now()))
        store.record_outcome(address, handles=handles, generation=generation, last_applied=last,
                             lifecycle=observation.status, deletion_policy=desired.deletion_policy)
    return ImportResult(address, desired.vendor, handles, observation, unknown)


def _refuse_unless_running(address: str, vendor: str, vendor_id: str, observation: Observation) -> None:
    detail = f" ({observation.detail})" if observation.detail else ""
    if observation.status == "absent":
        raise ReconcilerError(f"{address}: {vendor} has no job {vendor_id!r}{detail}; nothing to import. Check the "
                              "id, or let `reconciler apply` start the job")
    if observation.status == "inactive":
        raise ReconcilerError(f"{address}: {vendor} reports job {vendor_id!r} as stopped{detail}; a stopped job "
                              "cannot be adopted. Let `reconciler apply` start a new one")
    if observation.status == "unknown":
        raise ReconcilerError(f"{address}: {vendor} cannot tell whether job {vendor_id!r} runs{detail}, so it "
                              "cannot be adopted; let `reconciler apply` start and manage the job instead")


@click.command("import")
@click.argument("address", metavar="KIND/NAME")
@click.argument("vendor_id")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@state_option
@connection_options
def import_command(address: str, vendor_id: str, paths: tuple[Path, ...], state_url: str,
                   endpoints_file: Path | None, allowed_endpoints: tuple[str, ...]) -> int:
    """Adopt a job that already runs at a vendor for the manifest resource KIND/NAME.

    VENDOR_ID: Aliyun and ZEGO the mix TaskId; anyRTC RESOURCE_ID:SID. An id that starts with a dash
    goes after `--` (reconciler import Recording/x -- -QbZ...:sid manifests/).

    PATHS are the manifests (default: the current directory). The next plan shows only where the
    job differs from the manifest, and fields the vendor cannot report are re-applied once.
    """
    store = open_store(state_url)
    try:
        result = asyncio.run(import_resource(paths or (Path("."),), address, vendor_id, store,
                                             build_connection_options(endpoints_file, allowed_endpoints)))
    finally:
        store.close()
    ids = ", ".join(f"{k}={v}" for k, v in sorted(result.handles.items()))
    detail = f" ({result.observation.detail})" if result.observation.detail else ""
    click.echo(f"imported {result.address}: {ids}; {result.vendor} reports it {result.observation.status}{detail}")
    if result.unknown:
        click.echo(f"{result.vendor} cannot report {', '.join(result.unknown)}: the next apply sets "
                   f"{'it' if len(result.unknown) == 1 else 'them'} once from the manifest")
    click.echo("run `reconciler plan` to see how the job differs from the manifest")
    return 0
