"""`reconciler schema`: print the manifest JSON Schema (for editors; the repository ships a copy)."""

from __future__ import annotations

import click

from reconciler.model.schema import REGENERATE, manifest_schema_text


@click.command("schema", epilog=f"Regenerate the shipped copy with: {REGENERATE}")
def schema_command() -> int:
    """Print the JSON Schema of manifest documents (yaml-language-server, IDEs)."""
    click.echo(manifest_schema_text(), nl=False)
    return 0
