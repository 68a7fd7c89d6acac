"""`state list`, `state show`, `state rm`, `state force-unlock`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from reconciler.commands.options import open_store, state_location, state_option
from reconciler.errors import StateError
from reconciler.state.base import holder_alive_here, locked

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
    store = open_store(state_url, read_only=True)
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
    store = open_store(state_url, read_only=True)
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


@state_group.command("rm")
@click.argument("addresses", nargs=-1, required=True, metavar="ADDRESS...")
@state_option
def state_rm(addresses: tuple[str, ...], state_url: str) -> int:
    """Forget jobs (KIND/NAME) without stopping them: they keep running at the vendor, unmanaged.

    Use it for a job whose vendor account is gone (dead emulators, a deleted app) or that someone
    else now owns. Nothing is sent to any vendor. If the manifests still name it, the next plan
    starts it anew; `reconciler import` adopts a job that still runs instead.
    """
    store = open_store(state_url, read_only=True)
    try:
        if getattr(store, "missing", False):
            raise StateError(f"no state at {state_location(store)}: there is nothing to forget")
        with locked(store, purpose="state rm"):
            records = {address: store.get(address) for address in addresses}
            unknown = [a for a, r in records.items() if r is None]
            if unknown:
                raise StateError(f"not in state: {', '.join(unknown)}; `reconciler state list` shows what there is")
            for address, record in records.items():
                assert record is not None
                store.forget(address)
                ids = " ".join(f"{k}={v}" for k, v in sorted(record.handles.items())) or "no vendor ids"
                pending = f"; its interrupted {record.intent.operation} is forgotten too" if record.intent else ""
                click.echo(f"forgot {address} ({record.vendor} {ids}){pending}")
    finally:
        store.close()
    click.echo("Nothing was stopped: a forgotten job that still runs keeps running (and billing) at its vendor, "
               "unmanaged. Stop it there, or adopt it again with `reconciler import`.")
    return 0


@state_group.command("force-unlock")
@click.option("--force", is_flag=True,
              help="Remove the lock even though its holder still runs on this machine (it may corrupt that run).")
@state_option
def state_force_unlock(force: bool, state_url: str) -> int:
    """Remove a lock left by a run that died. Only when you are sure no apply is running.

    A holder that still runs on this machine is refused unless --force: its apply may be in the
    middle of vendor calls, and a second apply would race it.
    """
    store = open_store(state_url, read_only=True)
    try:
        holder = store.lock_holder()
        if holder is not None and holder_alive_here(holder) and not force:
            raise StateError(
                f"the lock holder {holder} is still running on this machine; wait for it to finish or stop it "
                f"(kill -INT {holder.pid}); `reconciler state force-unlock --force` removes its lock anyway"
            )
        holder = store.force_unlock()
    finally:
        store.close()
    click.echo(f"removed the lock held by {holder}" if holder else "the state was not locked")
    return 0
