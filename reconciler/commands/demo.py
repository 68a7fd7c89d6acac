"""`reconciler demo`: the main job end to end on one machine.

Starts the embedded emulators, exports their demo credentials to this process only, then plans and
applies the example manifests with the default SQLite state, and plans once more to show that a
second run has nothing to do.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import click

from reconciler.apply.connections import ConnectionOptions
from reconciler.commands.options import open_store, state_option
from reconciler.emulator.cluster import EmulatorCluster, emulator_class
from reconciler.plan.planner import PlanOptions
from reconciler.render.text import render_plan, render_result
from reconciler.vendors import vendor_names
from reconciler.workflow import apply_manifests, plan_manifests


def default_examples() -> list[Path]:
    """examples/<vendor> of every registered vendor that has one (run from the repository root)."""
    return [path for path in (Path("examples") / name for name in vendor_names()) if path.is_dir()]


@click.command("demo")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@state_option
def demo_command(paths: tuple[Path, ...], state_url: str) -> int:
    """Plan and apply the examples against the embedded emulators, then plan again (no changes)."""
    chosen = list(paths) or default_examples()
    if not chosen:
        raise click.UsageError("no example directories found; run from the repository root or pass PATHS")
    cluster = EmulatorCluster.start()
    try:
        for vendor in vendor_names():
            os.environ.update(emulator_class(vendor).DEMO_ENV)
        options = ConnectionOptions(endpoint_overrides=cluster.endpoints)
        click.echo("Emulators: " + ", ".join(f"{v} {u}" for v, u in cluster.endpoints.items()))
        click.echo(f"Manifests: {', '.join(str(p) for p in chosen)}; state: {state_url}\n")
        store = open_store(state_url)
        try:
            click.echo("== apply ==")
            outcome = asyncio.run(apply_manifests(
                chosen, store, options, PlanOptions(), on_plan=lambda plan: render_plan(plan, sys.stdout)))
            if outcome.result is not None:
                render_result(outcome.result, sys.stdout)
            click.echo("\n== plan again ==")
            again = asyncio.run(plan_manifests(chosen, store, options, PlanOptions()))
            render_plan(again.plan, sys.stdout)
        finally:
            store.close()
    finally:
        cluster.stop()
    failed = bool(outcome.result and outcome.result.failed)
    return 1 if failed or again.plan.has_changes else 0
