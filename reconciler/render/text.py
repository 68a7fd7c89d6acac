"""The plan as people read it in a terminal or CI log: grouped by provider, one symbol per action,
changed fields before -> after, reasons, and a one-line summary. Colour only on a TTY without NO_COLOR."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import IO, Any

from rich.console import Console
from rich.markup import escape as escape_markup

from reconciler.model.registry import as_rendered
from reconciler.plan.types import Action, Change, Plan
from reconciler.render.svg import can_draw
from reconciler.safe_text import one_line
from reconciler.secrets import REDACTOR

SYMBOLS: dict[Action, tuple[str, str]] = {
    Action.CREATE: ("+", "green"),
    Action.UPDATE: ("~", "yellow"),
    Action.STOP: ("-", "red"),
    Action.RESUME: (">", "cyan"),
    Action.PAUSE: ("|", "cyan"),
    Action.REPLACE: ("-/+", "magenta"),
    Action.FORGET: ("x", "red"),
    Action.NOOP: ("=", "dim"),
}
UNVERIFIED = ("?", "yellow")


def closing_line(plan: Plan) -> str:
    """The verdict under a plan: "the vendors match" only when every resource was observed to match."""
    if plan.has_changes or any(c.orphan for c in plan.changes):
        return ""
    unverifiable = plan.summary()["unverifiable"]
    if unverifiable:
        return (f"Nothing to apply, but {unverifiable} resource(s) could not be verified at the vendor "
                "(listed above): what runs there for them is unknown.")
    return "No changes. The vendors match the manifests."


class RedactingStream:
    """A text stream that masks every known secret (and its derived forms) on its way out."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(REDACTOR(text))

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", None) or "utf-8"


def console(stream: IO[str] | None = None) -> Console:
    target = stream if stream is not None else sys.stdout
    return Console(file=RedactingStream(target), highlight=False, soft_wrap=True,  # type: ignore[arg-type]
                   emoji=False)


def escape(text: str) -> str:
    """Data shown on one line: markup, control and bidi characters all shown escaped."""
    return escape_markup(one_line(text))


def summary_line(plan: Plan) -> str:
    s = plan.summary()
    line = (f"{s['start']} to start, {s['update']} to update, {s['stop']} to stop, {s['resume']} to resume, "
            f"{s['unchanged']} unchanged")
    extras = [f"{s[k]} to {k}" for k in ("replace", "pause", "forget") if s[k]]
    if s["unverifiable"]:
        extras.append(f"{s['unverifiable']} unverifiable: the vendor cannot report them or did not answer")
    if s["orphaned"]:
        extras.append(f"{s['orphaned']} orphaned (apply --prune to remove)")
    return line + (", " + ", ".join(extras) if extras else "")


def _value(value: Any) -> str:
    if isinstance(value, (dict, list)):
        text = json.dumps(value, sort_keys=True)
        return text if len(text) <= 80 else text[:77] + "..."
    return json.dumps(value) if isinstance(value, str) else str(value)


def _created_fields(after: Mapping[str, Any]) -> list[str]:
    lines = []
    for key in sorted(after):
        value = after[key]
        if key == "layout" and isinstance(value, Mapping) and "canvas" in value and "panes" in value:
            canvas = value.get("canvas", {})
            lines.append(f"layout: {value.get('name')} ({len(value.get('panes', []))} panes, "
                         f"{canvas.get('width')}x{canvas.get('height')})")
        elif isinstance(value, Mapping):
            lines.extend(f"{key}.{k}: {_value(v)}" for k, v in sorted(value.items()))
        else:
            lines.append(f"{key}: {_value(value)}")
    return lines


def layout_changed(change: Change) -> bool:
    """A start or change that sets a drawable layout (what the pictures and the vendor's notes are about)."""
    if change.action not in (Action.CREATE, Action.UPDATE, Action.REPLACE):
        return False
    after = (change.after or {}).get("layout")
    return can_draw(after) and (change.action is Action.CREATE or (change.before or {}).get("layout") != after)


def rendition_notes(change: Change) -> tuple[str, ...]:
    """What the vendor will not honour of the layout this change sends (as under the PR picture)."""
    if not layout_changed(change):
        return ()
    assert change.after is not None
    return as_rendered(change.vendor, change.kind, change.after)[1]


def render_change(out: Console, change: Change, *, verbose: bool) -> None:
    unverifiable = change.action is Action.NOOP and not change.orphan and bool(change.unverified)
    symbol, colour = UNVERIFIED if unverifiable else SYMBOLS[change.action]
    label = "orphan" if change.orphan and change.action is Action.NOOP else (
        "unverifiable" if unverifiable else "unchanged" if change.action is Action.NOOP else change.display_action)
    if change.action is Action.NOOP and not change.orphan and not unverifiable and not verbose:
        return
    flags = " [bold red](drift)[/]" if change.drift else ""
    out.print(f"  [{colour}]{escape(symbol)} {escape(change.address)}[/]  {escape(label)}{flags}")
    for reason in change.reasons:
        out.print(f"      [dim]{escape(reason)}[/]")
    if change.unverified:
        out.print(f"      [dim]not observed: {escape(change.unverified)}[/]")
    if change.action is Action.CREATE and change.after is not None:
        for line in _created_fields(change.after):
            out.print(f"      {escape(line)}")
    else:
        for field in change.fields:
            out.print(f"      {escape(field.path)}: {escape(_value(field.before))} → {escape(_value(field.after))}")
    for note in rendition_notes(change):
        out.print(f"      [yellow]{escape(change.vendor)}:[/] {escape(note)}")


def render_plan(plan: Plan, stream: IO[str] | None = None, *, verbose: bool = False) -> None:
    out = console(stream)
    for warning in plan.warnings:
        out.print(f"[yellow]note:[/] {escape(warning)}")
    by_provider: dict[str, list[Change]] = {}
    for change in plan.changes:
        by_provider.setdefault(f"{change.vendor} · Provider/{change.provider}", []).append(change)
    shown = False
    for group in sorted(by_provider):
        changes = by_provider[group]
        if not verbose and not any(c.action.writes or c.orphan or c.unverified for c in changes):
            continue
        out.print(f"[bold]{escape(group)}[/]")
        for change in changes:
            render_change(out, change, verbose=verbose)
        shown = True
    verdict = closing_line(plan)
    if verdict:
        out.print(verdict if not shown or not plan.verified else "No changes.")
    out.print(f"[bold]Plan:[/] {escape(summary_line(plan))}")

