"""The plan as a pull-request comment: a summary table, one collapsible section per resource, and a
picture of the layout before and after every layout change.

Pure: a Plan in, a list of markdown comment bodies out. GitHub refuses comments over 65,536
characters, so the output is split into numbered parts of at most `limit` characters, never inside a
resource's section; the summary table is continued (with its header repeated) in the next part.

Every layout change is drawn in text (render/cells.py): before and after side by side in a code
block, which GitHub, GitLab and chat tools all show as is, with nothing to host. GitHub's sanitiser
removes inline `<svg>` and `data:` images, so there are none. Real images are an opt-in: a `picture`
callback stores each SVG/PNG somewhere (the CLI's `--pictures-dir`/`--pictures-url`) and returns its
http(s) URL, and the comment adds `<img>` tags, with alt text listing the panes, under the drawing.
Values come from the plan, which holds secret references only.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.model.registry import as_rendered
from reconciler.plan.types import Action, Change, Plan
from reconciler.render import cells
from reconciler.render.svg import can_draw, layout_svg
from reconciler.render.text import closing_line, layout_changed, summary_line
from reconciler.safe_text import one_line, printable

COMMENT_LIMIT = 65_000  # GitHub's limit is 65,536 characters; keep room for a bot's own footer
PART_SEPARATOR = "<!-- reconciler: next comment -->"  # between parts when printed to one stream
VALUE_WIDTH = 120

PictureSink = Callable[[str, str], str]  # (file stem, SVG text) -> http(s) or relative URL for <img src>

MARKS: dict[Action, str] = {
    Action.CREATE: "+", Action.UPDATE: "~", Action.STOP: "-", Action.RESUME: ">", Action.PAUSE: "||",
    Action.REPLACE: "-/+", Action.FORGET: "x", Action.NOOP: "=",
}
TABLE_HEAD = "| | Resource | Provider | Action | Why |\n| :-: | --- | --- | --- | --- |"


@dataclass(frozen=True)
class _Item:
    text: str
    row: bool = False  # a row of the summary table


def render_markdown(plan: Plan, *, limit: int = COMMENT_LIMIT, picture: PictureSink | None = None,
                    title: str = "Reconciler plan") -> list[str]:
    """The comment bodies, each at most `limit` characters (one unless the plan is large)."""
    shown = _shown(plan)
    intro = _intro(plan, shown)
    items = [_Item(_row(c), row=True) for c in shown]
    budget = limit - len(_heading(title, 999, 999)) - len(TABLE_HEAD) - 8
    if budget < 500:
        raise ValueError(f"a comment limit of {limit} characters is too small to render a plan")
    items += [_Item(_section(c, picture, budget)) for c in shown]
    parts = _pack([_Item(intro)] + items, budget)
    total = len(parts)
    return [printable(f"{_heading(title, i + 1, total)}\n\n{body}\n") for i, body in enumerate(parts)]


def _heading(title: str, number: int, total: int) -> str:
    return f"### {title}" + (f" (part {number} of {total})" if total > 1 else "")


def _shown(plan: Plan) -> list[Change]:
    """Changes and orphans, grouped per provider; unchanged resources are only counted."""
    picked = [c for c in plan.changes if c.action.writes or c.orphan or c.unverified]
    return sorted(picked, key=lambda c: (c.vendor, c.provider, c.address))


def _intro(plan: Plan, shown: list[Change]) -> str:
    lines = [f"**Plan:** {_cell(summary_line(plan))}", ""]
    meta = f"state serial {plan.state_serial} · manifests `{plan.manifest_fingerprint[:12] or 'none'}`"
    lines.append(f"<sub>{meta} · made {_cell(plan.created_at)}</sub>")
    for warning in plan.warnings:
        lines += ["", f"> **Note:** {_cell(warning)}"]
    verdict = closing_line(plan)
    if verdict:
        lines += ["", verdict]
    return "\n".join(lines)


def _mark(change: Change) -> str:
    return "?" if change.action is Action.NOOP and not change.orphan and change.unverified else MARKS[change.action]


def _label(change: Change) -> str:
    if change.action is Action.NOOP:
        return "orphan" if change.orphan else "unverifiable"
    return change.display_action


def _row(change: Change) -> str:
    label = _label(change)
    if change.drift:
        label += " (drift)"
    why = "; ".join(change.reasons + ((f"not observed: {change.unverified}",) if change.unverified else ()))
    return (f"| `{_mark(change)}` | <code>{_cell(change.address)}</code> | "
            f"{_cell(change.vendor)} · {_cell(change.provider)} | {_cell(label)} | {_cell(_cut(why, 160))} |")


def _section(change: Change, picture: PictureSink | None, budget: int) -> str:
    """One resource's <details>; pictures are dropped, then field rows, if it would not fit a comment."""
    text = _section_text(change, picture, pictures=True, max_fields=None)
    if len(text) <= budget:
        return text
    text = _section_text(change, picture, pictures=False, max_fields=None)
    fields = len(change.fields)
    while len(text) > budget and fields > 0:
        fields = fields // 2
        text = _section_text(change, picture, pictures=False, max_fields=fields)
    return text


def _section_text(change: Change, picture: PictureSink | None, *, pictures: bool, max_fields: int | None) -> str:
    label = _label(change)
    drift = " (drift)" if change.drift else ""
    out = [(f"<details><summary><code>{_mark(change)}</code> <b>{_cell(change.address)}</b>: "
           f"{_cell(label)}{drift}</summary>"), ""]
    out.append(f"*{_cell(change.vendor)} · Provider/{_cell(change.provider)}*"
               + (f" · ids: {_cell(_ids(change.handles))}" if change.handles else ""))
    out += [""] + [f"- {_cell(reason)}" for reason in change.reasons]
    if change.unverified:
        out.append(f"- not observed: {_cell(change.unverified)}")
    rows = _field_rows(change, drawn=pictures and layout_changed(change))
    if rows:
        kept = rows if max_fields is None else rows[:max_fields]
        out += ["", "| Field | Before | After |", "| --- | --- | --- |", *kept]
        if len(kept) < len(rows):
            out.append(f"| ... | {len(rows) - len(kept)} more field(s) | see `reconciler show plan.json` |")
    out += _pictures(change, picture) if pictures else []
    if not pictures and layout_changed(change):
        out += ["", "*Layout pictures left out to keep this comment under the size limit.*"]
    out += ["", "</details>"]
    return "\n".join(out)


def _field_rows(change: Change, *, drawn: bool = False) -> list[str]:
    """One row per changed field; with `drawn`, the layout's rows become one row naming what the drawing shows."""
    if change.action is Action.CREATE and change.after is not None:
        return [f"| <code>{_cell(k)}</code> | | {_value(v)} |" for k, v in sorted(change.after.items())]
    layout_fields = [f.path for f in change.fields if f.path == "layout" or f.path.startswith("layout.")]
    rows = [f"| <code>{_cell(f.path)}</code> | {_value(f.before)} | {_value(f.after)} |" for f in change.fields
            if not drawn or f.path not in layout_fields]
    if drawn and layout_fields:
        before, after = _layout_of(change.before) or {}, _layout_of(change.after) or {}
        paths = ", ".join(p.removeprefix("layout.") for p in layout_fields)
        rows.append(f"| <code>layout</code> | {_value(before.get('name'))} | {_value(after.get('name'))}: "
                    f"{_cell(_cut(paths, 160))} (drawn below) |")
    return rows


def _layout_of(spec: Mapping[str, Any] | None) -> Any:
    return (spec or {}).get("layout")


def _pictures(change: Change, picture: PictureSink | None) -> list[str]:
    """Drawn from what will be sent (a vendor preset's own geometry), with what the vendor cannot honour."""
    if not layout_changed(change):
        return []
    assert change.after is not None
    after, notes = as_rendered(change.vendor, change.kind, change.after)
    created = change.action is Action.CREATE
    before: Mapping[str, Any] | None = None
    if not created and change.before is not None and can_draw(_layout_of(change.before)):
        before = as_rendered(change.vendor, change.kind, change.before)[0]
    if created:
        drawing = cells.before_after(None, after)
    elif before is not None:
        drawing = cells.before_after(before, after)
    else:
        drawing = cells.side_by_side(cells.unknown_before(), cells.picture(after, "after"))
    caveats = ["", *(f"*{_cell(change.vendor)}: {_cell(note)}*" for note in notes)] if notes else []
    out = ["", "```text", *drawing, "```"]
    if picture is None:
        return out + caveats
    stem = change.address.replace("/", "-")
    right = _img(after, f"{stem}-after", "after", picture)
    if created:
        return out + ["", "| Layout |", "| :-: |", f"| {right} |", *caveats]
    if before is not None:
        left = _img(before, f"{stem}-before", "before", picture)
    else:
        left = "<i>not known: the vendor cannot report the live layout</i>"
    return out + ["", "| Layout before | Layout after |", "| :-: | :-: |", f"| {left} | {right} |", *caveats]


def _img(layout: Mapping[str, Any], stem: str, when: str, picture: PictureSink) -> str:
    name = str(layout.get("name") or "layout")
    svg = layout_svg(layout, title=f"{name} ({when})")
    canvas = layout["canvas"]
    panes = ", ".join(f"{p.get('user') or 'next joiner'} at {_pct(p['x'])},{_pct(p['y'])} "
                      f"{_pct(p['width'])}x{_pct(p['height'])}" for p in layout["panes"])
    alt = f"{when}: {name} {canvas['width']}x{canvas['height']}: {panes}"
    return f'<img src="{html.escape(picture(stem, svg))}" alt="{html.escape(_cut(alt, 400))}" width="320">'


def _pct(value: Any) -> str:
    return f"{float(value) * 100:g}%"


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping) and can_draw(value):
        canvas = value["canvas"]
        brief = f"layout {value.get('name') or ''} ({len(value['panes'])} panes, {canvas['width']}x{canvas['height']})"
        return _cell(brief.replace("  ", " "))
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return f"<code>{_cell(_cut(text, VALUE_WIDTH))}</code>"


def _ids(handles: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(handles.items()))


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _cell(text: str) -> str:
    """Safe inside a table cell and inline HTML: no markup from data, no column breaks, no control or
    bidi characters (shown escaped)."""
    return html.escape(one_line(str(text)), quote=False).replace("|", "&#124;").replace("\\n", " ")


def _pack(items: list[_Item], budget: int) -> list[str]:
    """Fill parts in order; a table row starting a part (or following text) re-opens the table."""
    parts: list[list[str]] = [[]]
    size = 0
    in_table = False
    for item in items:
        piece = (TABLE_HEAD + "\n" + item.text) if item.row and not in_table else item.text
        extra = len(piece) + (1 if item.row and in_table else 2)
        if parts[-1] and size + extra > budget:
            parts.append([])
            size, in_table = 0, False
            piece = TABLE_HEAD + "\n" + item.text if item.row else item.text
            extra = len(piece) + 2
        if item.row and in_table:
            parts[-1][-1] += "\n" + piece
        else:
            parts[-1].append(piece)
        size += extra
        in_table = item.row
    return ["\n\n".join(chunks) for chunks in parts]
