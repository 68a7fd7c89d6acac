"""`reconciler demo`: the main job end to end on one machine.

Starts the embedded emulators, exports their demo credentials to this process only, then plans and
applies the example manifests, and plans once more to show that a second run has nothing to do.
The demo keeps its own state (`.reconciler/demo-state.db`, not the default state and not
RECONCILER_STATE): its jobs live in emulators that end with it, and must never show up as orphans
in a real plan.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import click

from reconciler.apply.connections import ConnectionOptions
from reconciler.commands.options import open_store, state_location
from reconciler.emulator.cluster import EmulatorCluster, emulator_class
from reconciler.plan.planner import PlanOptions
from reconciler.render.progress import ApplyReporter, render_summary
from reconciler.render.text import render_plan
from reconciler.state import DEMO_STATE_URL
from reconciler.vendors import vendor_names
from reconciler.workflow import ApplyFollow, apply_manifests, plan_manifests


def default_examples() -> list[Path]:
    """examples/<vendor> of every registered vendor that has one (run from the repository root)."""
    return [path for path in (Path("examples") / name for name in vendor_names()) if path.is_dir()]


@click.command("demo")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--state", "state_url", default=DEMO_STATE_URL, show_default=True,
              help="State URL of the demo's own state (never the default state, nor RECONCILER_STATE).")
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
        store = open_store(state_url)
        click.echo(f"Manifests: {', '.join(str(p) for p in chosen)}; demo state: {state_location(store)}\n")
        try:
            click.echo("== apply ==")
            reporter = ApplyReporter(sys.stdout)
            follow = ApplyFollow(on_execute=reporter.begin, on_start=reporter.started, on_result=reporter.finished,
                                 on_event=reporter.waiting)
            try:
                outcome = asyncio.run(apply_manifests(
                    chosen, store, options, PlanOptions(), on_plan=lambda plan: render_plan(plan, sys.stdout),
                    follow=follow))
            finally:
                reporter.end()
            if outcome.result is not None:
                render_summary(outcome.result, reporter.out)
            click.echo("\n== plan again ==")
            again = asyncio.run(plan_manifests(chosen, store, options, PlanOptions()))
            render_plan(again.plan, sys.stdout)
        finally:
            store.close()
    finally:
        cluster.stop()
    failed = bool(outcome.result and outcome.result.failed)
    return 1 if failed or again.plan.has_changes else 0
