"""The plan as people read it in a terminal or CI log: grouped by provider, one symbol per action,
changed fields before -> after, reasons, and a one-line summary. Colour only on a TTY without NO_COLOR."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import IO, Any

from rich.console import Console

from reconciler.model.registry import as_rendered
from reconciler.plan.types import Action, Change, Plan
from reconciler.render.lines import Part, StyledLines
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


def change_lines(lines: StyledLines, change: Change, *, verbose: bool) -> None:
    """The lines of one change: symbol, address and action, then reasons, fields and vendor notes."""
    unverifiable = change.action is Action.NOOP and not change.orphan and bool(change.unverified)
    symbol, colour = UNVERIFIED if unverifiable else SYMBOLS[change.action]
    label = "orphan" if change.orphan and change.action is Action.NOOP else (
        "unverifiable" if unverifiable else "unchanged" if change.action is Action.NOOP else change.display_action)
    if change.action is Action.NOOP and not change.orphan and not unverifiable and not verbose:
        return
    flags: tuple[Part, ...] = (" ", ("(drift)", "bold red")) if change.drift else ()
    lines.line("  ", (f"{one_line(symbol)} {one_line(change.address)}", colour), f"  {one_line(label)}", *flags)
    for reason in change.reasons:
        lines.line("      ", (one_line(reason), "dim"))
    if change.unverified:
        lines.line("      ", (f"not observed: {one_line(change.unverified)}", "dim"))
    if change.action is Action.CREATE and change.after is not None:
        for line in _created_fields(change.after):
            lines.line(f"      {one_line(line)}")
    else:
        for field in change.fields:
            lines.line(f"      {one_line(field.path)}: {one_line(_value(field.before))} → "
                       f"{one_line(_value(field.after))}")
    for note in rendition_notes(change):
        lines.line("      ", (f"{one_line(change.vendor)}:", "yellow"), f" {one_line(note)}")


def plan_lines(plan: Plan, *, verbose: bool = False) -> StyledLines:
    """The whole plan, every line styled as it is printed."""
    lines = StyledLines()
    for warning in plan.warnings:
        lines.line(("note:", "yellow"), f" {one_line(warning)}")
    by_provider: dict[str, list[Change]] = {}
    for change in plan.changes:
        by_provider.setdefault(f"{change.vendor} · Provider/{change.provider}", []).append(change)
    shown = False
    for group in sorted(by_provider):
        changes = by_provider[group]
        if not verbose and not any(c.action.writes or c.orphan or c.unverified for c in changes):
            continue
        lines.line((one_line(group), "bold"))
        for change in changes:
            change_lines(lines, change, verbose=verbose)
        shown = True
    verdict = closing_line(plan)
    if verdict:
        lines.line(verdict if not shown or not plan.verified else "No changes.")
    lines.line(("Plan:", "bold"), f" {one_line(summary_line(plan))}")
    return lines


def render_plan(plan: Plan, stream: IO[str] | None = None, *, verbose: bool = False) -> None:
    console(stream).print(plan_lines(plan, verbose=verbose))
