"""`reconciler compare REVIEWED.json NEW.json`: does the new plan make exactly the reviewed changes?"""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.commands.show import read_saved_plan
from reconciler.plan.compare import plan_differences
from reconciler.secrets import REDACTOR

EXIT_SAME, EXIT_DIFFERENT = 0, 2


@click.command("compare")
@click.argument("reviewed", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, path_type=Path))
def compare_command(reviewed: Path, new: Path) -> int:
    """Exit 0 when NEW makes the same changes as REVIEWED, 2 (listing the differences) when not.

    Reads the two files only. The deploy workflow plans from the merge commit and applies that plan
    when it matches the one reviewed in the pull request, and asks for approval otherwise.
    """
    differences = plan_differences(read_saved_plan(reviewed).plan, read_saved_plan(new).plan)
    if not differences:
        click.echo(f"{new} makes the same changes as {reviewed}")
        return EXIT_SAME
    click.echo(f"{new} differs from the reviewed plan {reviewed}:")
    for line in differences:
        click.echo(REDACTOR(f"  {line}"))
    return EXIT_DIFFERENT
