"""`state list`, `state show`, `state force-unlock`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from reconciler.commands.options import open_store, state_option
from reconciler.errors import StateError

F = TypeVar("F", bound=Callable[..., Any])


@click.group("state")
def state_group() -> None:
    """Inspect the state store."""


def _format_option(default: str) -> Callable[[F], F]:
    return click.option("--format", "fmt", type=click.Choice(("text", "json")), default=default, show_default=True,
                        help="text for people, json for programs.")


@state_group.command("list")
@state_option
@_format_option("text")
def state_list(state_url: str, fmt: str) -> int:
    """One line per resource in state: address, lifecycle, vendor ids."""
    store = open_store(state_url)
    try:
        records = store.records()
        if fmt == "json":
            holder = store.lock_holder()
            click.echo(json.dumps({"serial": store.serial(), "locked_by": holder or None, "resources": [
                {"address": address, "kind": r.kind, "name": r.name, "provider": r.provider, "vendor": r.vendor,
                 "lifecycle": r.lifecycle, "handles": dict(r.handles), "generation": r.generation,
                 "interrupted": r.intent.operation if r.intent else None}
                for address, r in records.items()]}, indent=2))
            return 0
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
@_format_option("json")
def state_show(address: str, state_url: str, fmt: str) -> int:
    """Everything state holds for one resource (JSON unless --format text)."""
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
    shown = {
        "address": record.address, "kind": record.kind, "name": record.name, "provider": record.provider,
        "vendor": record.vendor, "lifecycle": record.lifecycle, "handles": dict(record.handles),
        "generation": record.generation, "deletion_policy": record.deletion_policy,
        "last_applied": record.last_applied, "intent": intent, "serial": record.serial,
        "updated_at": record.updated_at,
    }
    if fmt == "json":
        click.echo(json.dumps(shown, indent=2))
    else:
        for key, value in shown.items():
            click.echo(f"{key}: {value if isinstance(value, (str, int)) else json.dumps(value, sort_keys=True)}")
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
