"""`validate`: kept apart from plan/apply so that it imports the model alone (no httpx, no providers)."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.allowances import Allowances
from reconciler.commands.options import connection_options
from reconciler.endpoints import load_endpoints_file
from reconciler.errors import ManifestErrors
from reconciler.model.manifest import load_manifests
from reconciler.model.source import find_manifest_files
from reconciler.safe_text import one_line


def _allowances(paths: tuple[Path, ...], endpoints_file: Path | None, allowed: tuple[str, ...]) -> Allowances:
    """What `build_connection_options(...).allowances(paths)` gives, without importing the HTTP stack."""
    ctx = click.get_current_context(silent=True)
    found = ctx.meta if ctx is not None else {}
    return Allowances.from_operator([str(p) for p in paths], secret_dirs=tuple(found.get("reconciler.secret_dirs", ())),
                                    env_globs=tuple(found.get("reconciler.secret_env", ())),
                                    endpoints=[*allowed, *load_endpoints_file(endpoints_file).values()])


@click.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))  # as options.paths_argument
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True,
              help="text for people; json: {valid, files, resources, skipped, errors} on stdout for programs.")
@connection_options
def validate_command(paths: tuple[Path, ...], fmt: str, endpoints_file: Path | None,
                     allowed_endpoints: tuple[str, ...]) -> int:
    """Check manifests (schema, references, vendor rules, what their secrets and endpoints may reach)
    without any network call and without reading any secret.

    In a directory, YAML files without `apiVersion: reconciler/...` (CI workflows, other tools'
    configuration) are not manifests: they are skipped, and a note names them.
    """
    skipped: list[Path] = []
    find_manifest_files([p for p in paths if p.exists()], skipped)
    if skipped and fmt == "text":
        names = ", ".join(str(p) for p in skipped[:10]) + (f" and {len(skipped) - 10} more" if len(skipped) > 10 else "")
        click.echo(f"note: skipped {len(skipped)} YAML file(s) without `apiVersion: reconciler/...` "
                   f"(not manifests): {one_line(names)}", err=True)
    try:
        manifests = load_manifests(paths, _allowances(paths, endpoints_file, allowed_endpoints))
    except ManifestErrors as exc:
        if fmt != "json":
            raise
        import json  # json output only: text output (pre-commit hooks) skips the import

        from reconciler.secrets import REDACTOR

        click.echo(REDACTOR(json.dumps({"valid": False, "skipped": [str(p) for p in skipped], "errors": [
            {"file": e.file, "line": e.line, "column": e.column, "resource": e.resource or None,
             "field": e.field or None, "message": e.message} for e in exc.errors]}, indent=2)))
        return 1
    counts: dict[str, int] = {}
    for kind, _ in manifests.resources:
        counts[kind] = counts.get(kind, 0) + 1
    if fmt == "json":
        import json

        click.echo(json.dumps({"valid": True, "files": manifests.files, "resources": dict(sorted(counts.items())),
                               "skipped": manifests.skipped, "errors": []}, indent=2))
        return 0
    listing = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    click.echo(f"valid: {len(manifests.files)} file(s), {listing}")
    return 0
