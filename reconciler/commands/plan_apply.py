"""`validate`, `plan` and `apply`."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from functools import partial
from pathlib import Path
from typing import Any

import click

from reconciler.commands.interrupt import ApplyInterrupts
from reconciler.commands.options import (
    build_connection_options,
    connection_options,
    open_store,
    paths_argument,
    state_option,
)
from reconciler.commands.show import emit_plan, format_options, picture_sink, read_saved_plan, write_plan_file
from reconciler.errors import Interrupted
from reconciler.plan.planner import PlanOptions
from reconciler.plan.types import Plan
from reconciler.render.ordered import OrderedOutput
from reconciler.render.progress import ApplyReporter, render_summary
from reconciler.render.text import render_plan, summary_line
from reconciler.workflow import (
    ApplyFollow,
    ApplyOutcome,
    apply_manifests,
    apply_saved_plan,
    plan_document,
    plan_manifests,
)


def _targets(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(values)


def print_plan(plan: Plan, fmt: str) -> None:
    emit_plan(plan, fmt)


@click.command("plan")
@paths_argument
@state_option
@connection_options
@format_options
@click.option("-o", "--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also save the plan (JSON) to this file, for `reconciler apply FILE` / `reconciler show FILE`.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 when there are no changes, 2 when there are.")
@click.option("--prune", is_flag=True, help="Plan to stop resources that left the manifests (orphans).")
@click.option("--allow-empty", is_flag=True,
              help="With --prune: prune even when the manifests lost every resource (of a provider).")
@click.option("--target", "targets", multiple=True, metavar="KIND/NAME", help="Plan only these resources.")
def plan_command(paths: tuple[Path, ...], state_url: str, endpoints_file: Path | None,
                 allowed_endpoints: tuple[str, ...], fmt: str, out_dir: Path | None, pictures_dir: Path | None,
                 pictures_url: str | None, pictures_format: str, out_file: Path | None, detailed_exitcode: bool, prune: bool,
                 allow_empty: bool, targets: tuple[str, ...]) -> int:
    """Show what apply would change, after asking the vendors what runs now."""
    picture = picture_sink(pictures_dir, pictures_url, pictures_format)
    store = open_store(state_url, read_only=True)
    try:
        outcome = asyncio.run(plan_manifests(
            paths, store, build_connection_options(endpoints_file, allowed_endpoints),
            PlanOptions(prune=prune, targets=_targets(targets), allow_empty=allow_empty),
        ))
    finally:
        store.close()
    document = plan_document(outcome)
    if out_file is not None:
        write_plan_file(out_file, document)
        click.echo(f"saved the plan to {out_file}: apply it with `reconciler apply {out_file}`", err=True)
    emit_plan(outcome.plan, fmt, document=document, out_dir=out_dir, picture=picture)
    if detailed_exitcode and outcome.plan.has_changes:
        return 2
    return 0


@click.command("apply")
@paths_argument
@state_option
@connection_options
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--prune", is_flag=True, help="Stop resources that left the manifests (orphans).")
@click.option("--allow-empty", is_flag=True,
              help="With --prune: prune even when the manifests lost every resource (of a provider).")
@click.option("--target", "targets", multiple=True, metavar="KIND/NAME", help="Apply only these resources.")
@click.option("--concurrency", type=click.IntRange(1, 256), default=64, show_default=True,
              help="Changes in progress at once, per provider and action. How many calls are in flight to each "
                   "vendor endpoint adapts to its round trips (4 to 64), and vendor rate limits pace the calls "
                   "regardless.")
def apply_command(paths: tuple[Path, ...], state_url: str, endpoints_file: Path | None,
                  allowed_endpoints: tuple[str, ...], auto_approve: bool, prune: bool, allow_empty: bool,
                  targets: tuple[str, ...], concurrency: int) -> int:
    """Plan, confirm, and make the vendors match the manifests.

    With a single PATH that is a `.json` file, apply that saved plan instead: exactly its changes,
    refused if the state or the live jobs changed since it was made (no confirmation is asked: the
    plan was the thing reviewed).
    """
    if len(paths) == 1 and paths[0].suffix == ".json" and not paths[0].is_dir():
        if prune or allow_empty or targets:
            raise click.UsageError("--prune, --allow-empty and --target shape a plan when it is made; "
                                   "pass them to `reconciler plan --out`, not when applying a saved plan")
        return _apply_saved(paths[0], state_url, endpoints_file, allowed_endpoints, concurrency)
    store = open_store(state_url)
    with apply_output() as output:
        def confirm(plan: Plan) -> bool:
            if auto_approve:
                return True
            output.flush()  # the whole plan is printed before the question about it
            if not sys.stdin.isatty():
                raise click.UsageError("apply needs confirmation: run it in a terminal or pass --auto-approve")
            return click.confirm(f"Apply these changes? ({summary_line(plan)})", default=False)

        reporter = ApplyReporter(sys.stdout, output=output)
        try:
            with ApplyInterrupts(lambda: _acknowledge(reporter)) as interrupts:
                outcome = _run_apply(reporter, interrupts, lambda follow: apply_manifests(
                    paths, store, build_connection_options(endpoints_file, allowed_endpoints),
                    PlanOptions(prune=prune, targets=_targets(targets), allow_empty=allow_empty),
                    confirm=confirm, on_plan=plan_printer(output), concurrency=concurrency, follow=follow,
                ))
        finally:
            store.close()
        return _finish(outcome, reporter, nothing_applied=outcome.plan.has_changes)


def apply_output() -> OrderedOutput:
    """Where an apply prints: a background thread, so rendering overlaps the vendor calls; with `-v`
    at once instead, so that the log lines on stderr and the output keep their order."""
    return OrderedOutput(background=not logging.getLogger("reconciler").isEnabledFor(logging.INFO))


def plan_printer(output: OrderedOutput) -> Callable[[Plan], None]:
    """Print the plan through `output`: apply's first write need not wait for it."""
    def show(plan: Plan) -> None:
        output.submit(partial(render_plan, plan, sys.stdout))  # the stream of now, not of when it runs

    return show


def _acknowledge(reporter: ApplyReporter) -> None:
    flight = ", ".join(reporter.in_flight) or "none"
    reporter.note(f"Interrupt: starting no new change; waiting for the calls in flight ({flight}) and recording "
                  "their outcomes. Press Ctrl-C again to abandon them.")


def _run_apply(reporter: ApplyReporter, interrupts: ApplyInterrupts,
               start: Callable[[ApplyFollow], Coroutine[Any, Any, ApplyOutcome]]) -> ApplyOutcome:
    """Run one apply with its changes printed as they finish; a second Ctrl-C abandons the calls in flight.

    However it ends, everything reported is printed before this returns or raises (`reporter.end`)."""
    def begin(plan: Plan) -> None:
        interrupts.executing(plan)
        reporter.begin(plan)

    follow = ApplyFollow(on_execute=begin, on_start=reporter.started, on_result=reporter.finished,
                         on_event=reporter.waiting, should_stop=interrupts.should_stop)
    try:
        return asyncio.run(start(follow))
    except asyncio.CancelledError:
        if not interrupts.abandoned:
            raise
        reporter.end()
        flight = ", ".join(reporter.in_flight) or "none"
        raise Interrupted(
            f"abandoned the calls in flight ({flight}) after {reporter.done} change(s) finished; their outcome is "
            "unknown and stays recorded in state, so the next plan or apply asks the vendor first"
        ) from None
    finally:
        reporter.end()


def _finish(outcome: ApplyOutcome, reporter: ApplyReporter, *, nothing_applied: bool) -> int:
    for message in outcome.recovered:
        click.echo(f"recovered: {message}")
    if outcome.result is None:
        if nothing_applied:
            click.echo("Nothing applied.")
        return 0
    render_summary(outcome.result, reporter.out)
    if outcome.result.interrupted:
        raise Interrupted(f"{len(outcome.result.results)} change(s) done, {len(outcome.result.not_started)} not "
                          "started; run apply again to continue")
    return 1 if outcome.result.failed else 0


def _apply_saved(plan_file: Path, state_url: str, endpoints_file: Path | None,
                 allowed_endpoints: tuple[str, ...], concurrency: int) -> int:
    saved = read_saved_plan(plan_file)
    store = open_store(state_url)
    with apply_output() as output:
        reporter = ApplyReporter(sys.stdout, output=output)
        try:
            with ApplyInterrupts(lambda: _acknowledge(reporter)) as interrupts:
                outcome = _run_apply(reporter, interrupts, lambda follow: apply_saved_plan(
                    saved, store, build_connection_options(endpoints_file, allowed_endpoints),
                    on_plan=plan_printer(output), concurrency=concurrency, follow=follow))
        finally:
            store.close()
        return _finish(outcome, reporter, nothing_applied=False)
