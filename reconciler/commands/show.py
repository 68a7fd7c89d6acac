"""`reconciler show PLAN.json`, and writing a plan in any format (shared with `plan`).

`show` reads nothing but the file: no state, no network, so a stale plan can always be looked at.
Every text that leaves the process passes the secret redactor as a second line of defence (plans
hold secret references only).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from reconciler.errors import PlanError
from reconciler.plan.serialize import SavedPlan, plan_to_dict, saved_plan_from_dict
from reconciler.plan.types import Plan
from reconciler.render.markdown import COMMENT_LIMIT, PART_SEPARATOR, PictureSink, render_markdown
from reconciler.render.text import render_plan
from reconciler.secrets import REDACTOR

F = Callable[..., Any]
FORMATS = ("text", "json", "markdown")


def format_options(fn: F) -> F:
    """--format and the markdown-only options, shared by `plan` and `show`."""
    fn = click.option("--pictures-format", type=click.Choice(("svg", "png")), default="svg", show_default=True,
                      help="markdown: file type of --pictures-dir images (png needs the [png] extra).")(fn)
    fn = click.option("--pictures-url", metavar="URL", default=None,
                      help="markdown: with --pictures-dir, the http(s) URL the pictures will be served from.")(fn)
    fn = click.option("--pictures-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                      help="markdown: also write layout pictures as image files here and link them under the "
                           "text drawings (opt-in: the host must serve them to every reader).")(fn)
    fn = click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                      help="markdown: write the comment as DIR/plan-1.md, plan-2.md, ... (a plan over 65,000 "
                           "characters is split) instead of printing the parts separated by a marker line.")(fn)
    fn = click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                      help="text for people, json (versioned schema) for programs, markdown for a PR comment.")(fn)
    return fn


def read_saved_plan(path: Path) -> SavedPlan:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"cannot read plan file {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PlanError(f"{path} is not a reconciler plan file (not JSON: {exc}); "
                        "write one with `reconciler plan PATHS --out FILE`") from None
    return saved_plan_from_dict(data)


def write_plan_file(path: Path, document: dict[str, Any]) -> None:
    """Write atomically, so a reader (or an interrupted CI step) never sees half a plan."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(REDACTOR(json.dumps(document, indent=2)) + "\n", encoding="utf-8")
    tmp.replace(path)


def picture_sink(pictures_dir: Path | None, pictures_url: str | None, fmt: str = "svg") -> PictureSink | None:
    """None (text drawings only) unless --pictures-dir asks for image files too."""
    if pictures_dir is None:
        if pictures_url is not None:
            raise click.UsageError("--pictures-url needs --pictures-dir (where to write the pictures)")
        return None
    if pictures_url is not None and not pictures_url.startswith(("https://", "http://")):
        raise click.UsageError("--pictures-url must be an http(s) URL: GitHub shows no other image source")

    def store(stem: str, svg: str) -> str:
        assert pictures_dir is not None
        pictures_dir.mkdir(parents=True, exist_ok=True)
        if fmt == "png":
            from reconciler.commands.layout import svg_to_png
            (pictures_dir / f"{stem}.png").write_bytes(svg_to_png(svg))
        else:
            (pictures_dir / f"{stem}.svg").write_text(svg, encoding="utf-8")
        base = pictures_url.rstrip("/") if pictures_url else pictures_dir.as_posix()
        return f"{base}/{stem}.{fmt}"

    return store


def emit_plan(plan: Plan, fmt: str, *, document: dict[str, Any] | None = None, out_dir: Path | None = None,
              picture: PictureSink | None = None, limit: int = COMMENT_LIMIT) -> None:
    """Print (or, for markdown with `out_dir`, write) the plan in one of FORMATS."""
    if out_dir is not None and fmt != "markdown":
        raise click.UsageError("--out-dir is for --format markdown")
    if fmt == "json":
        click.echo(REDACTOR(json.dumps(document if document is not None else plan_to_dict(plan), indent=2)))
    elif fmt == "markdown":
        parts = [REDACTOR(p) for p in render_markdown(plan, limit=limit, picture=picture)]
        if out_dir is None:
            click.echo(f"\n{PART_SEPARATOR}\n\n".join(parts), nl=False)
        else:
            out_dir.mkdir(parents=True, exist_ok=True)
            for old in out_dir.glob("plan-*.md"):
                old.unlink()  # a shorter plan must not leave parts of a longer one behind
            for number, part in enumerate(parts, start=1):
                (out_dir / f"plan-{number}.md").write_text(part, encoding="utf-8")
            click.echo(f"wrote {len(parts)} comment part(s) to {out_dir}", err=True)
    else:
        render_plan(plan, sys.stdout)


@click.command("show")
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=Path))
@format_options
def show_command(plan_file: Path, fmt: str, out_dir: Path | None, pictures_dir: Path | None,
                 pictures_url: str | None, pictures_format: str) -> int:
    """Render a saved plan (stale or not) without touching state or any vendor."""
    saved = read_saved_plan(plan_file)
    plan = saved.plan
    if fmt == "text":
        click.echo(f"Saved plan made {plan.created_at} against state serial {plan.state_serial} "
                   f"(manifests {plan.manifest_fingerprint[:12] or 'unknown'}, format {plan.format_version})")
    document = None
    if fmt == "json":
        document = plan_to_dict(plan, observed=saved.observed, providers=saved.providers, base_dir=saved.base_dir,
                                manifests=saved.manifests, secret_files=saved.secret_files)
    picture = picture_sink(pictures_dir, pictures_url, pictures_format)
    emit_plan(plan, fmt, document=document, out_dir=out_dir, picture=picture)
    return 0
