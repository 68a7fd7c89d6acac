"""`state list`, `state show`, `state force-unlock`."""

from __future__ import annotations

import json

import click

from reconciler.commands.options import open_store, state_option
from reconciler.errors import StateError


@click.group("state")
def state_group() -> None:
    """Inspect the state store."""


@state_group.command("list")
@state_option
def state_list(state_url: str) -> int:
    """One line per resource in state: address, lifecycle, vendor ids."""
    store = open_store(state_url)
    try:
        records = store.records()
        for address, record in records.items():
            ids = " ".join(f"{k}={v}" for k, v in sorted(record.handles.items()))
            pending = f" (interrupted {record.intent.operation})" if record.intent else ""
            click.echo(f"{address}\t{record.lifecycle}\t{record.vendor}\t{ids}{pending}")
        holder = store.lock_holder()
        click.echo(f"serial {store.serial()}, {len(records)} resource(s)" + (f", locked by {holder}" if holder else ""))
    finally:
        store.close()
    return 0


@state_group.command("show")
@click.argument("address")
@state_option
def state_show(address: str, state_url: str) -> int:
    """Everything state holds for one resource, as JSON."""
    store = open_store(state_url)
    try:
        record = store.get(address)
    finally:
        store.close()
    if record is None:
        raise StateError(f"no resource {address!r} in state; `reconciler state list` shows what there is")
    intent = None
    if record.intent is not None:
        intent = {"operation": record.intent.operation, "handles": dict(record.intent.handles),
                  "generation": record.intent.generation, "started_at": record.intent.started_at}
    click.echo(json.dumps({
        "address": record.address, "kind": record.kind, "name": record.name, "provider": record.provider,
        "vendor": record.vendor, "lifecycle": record.lifecycle, "handles": dict(record.handles),
        "generation": record.generation, "deletion_policy": record.deletion_policy,
        "last_applied": record.last_applied, "intent": intent, "serial": record.serial,
        "updated_at": record.updated_at,
    }, indent=2))
    return 0


@state_group.command("force-unlock")
@state_option
def state_force_unlock(state_url: str) -> int:
    """Remove a lock left by a run that died. Only when you are sure no apply is running."""
    store = open_store(state_url)
    try:
        holder = store.force_unlock()
    finally:
        store.close()
    click.echo(f"removed the lock held by {holder}" if holder else "the state was not locked")
    return 0
