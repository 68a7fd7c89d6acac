"""`validate`: kept apart from plan/apply so that it imports the model alone (no httpx, no providers)."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.model.manifest import load_manifests


@click.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))  # as options.paths_argument
def validate_command(paths: tuple[Path, ...]) -> int:
    """Check manifests (schema, references, vendor rules) without any network call."""
    manifests = load_manifests(paths)
    counts: dict[str, int] = {}
    for kind, _ in manifests.resources:
        counts[kind] = counts.get(kind, 0) + 1
    listing = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    click.echo(f"valid: {len(manifests.files)} file(s), {listing}")
    return 0
