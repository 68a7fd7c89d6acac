"""A Layout as a character-cell drawing: the canvas to scale in a fixed grid of ASCII characters, each
pane a box tagged with a letter and its user, and a legend under it.

Why text: every place a plan is read (GitHub and GitLab comments, chat tools, CI logs, terminals)
shows a code block as is, with no image hosting and nothing a sanitiser strips. Pure: a normalised
layout dict in, lines out.

Only printable ASCII leaves this module, and never a backtick, so the drawing cannot close the code
fence around it, carry markup, or lose its alignment to a wide character; names are cut to fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WIDTH = 32  # cells across the canvas; two drawings side by side stay under 80 columns
MIN_ROWS, MAX_ROWS = 4, 16
TAGS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
GAP = "    "


def plain(text: str, width: int | None = None) -> str:
    """Printable ASCII without backticks (a code fence cannot be closed from inside), cut to `width`."""
    out = "".join(c if " " <= c <= "~" and c != "`" else "?" for c in str(text))
    if width is not None and len(out) > width:
        out = out[: max(width - 1, 0)] + ("~" if width > 0 else "")
    return out


def tag(index: int) -> str:
    return TAGS[index] if index < len(TAGS) else "#"


def _pct(value: Any) -> str:
    return f"{round(float(value) * 100, 1):g}%"


def _rows(canvas: Mapping[str, Any], width: int) -> int:
    """Rows keeping the canvas's proportions; a character cell is about 2.2 times as tall as it is wide."""
    try:
        ratio = float(canvas["height"]) / float(canvas["width"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        ratio = 9 / 16
    return max(MIN_ROWS, min(MAX_ROWS, round(width * ratio / 2.2)))


def _box(grid: list[list[str]], x0: int, y0: int, x1: int, y1: int) -> None:
    for y in range(y0 + 1, y1):
        for x in range(x0 + 1, x1):
            grid[y][x] = " "  # a pane hides what lies under it (list order is z-order)
    for x in range(x0, x1 + 1):
        grid[y0][x] = grid[y1][x] = "-"
    for y in range(y0, y1 + 1):
        grid[y][x0] = grid[y][x1] = "|"
    for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1)):
        grid[y][x] = "+"


def _edges(start: Any, size: Any, cells: int) -> tuple[int, int]:
    first = min(max(round(float(start) * cells), 0), cells - 1)
    last = min(max(round((float(start) + float(size)) * cells), first + 1), cells)
    return first, last


def draw(layout: Mapping[str, Any], *, width: int = WIDTH) -> list[str]:
    """The canvas as lines of equal length: a dotted frame, then the panes in z-order."""
    canvas = layout["canvas"]
    rows = _rows(canvas, width)
    grid = [[" "] * (width + 1) for _ in range(rows + 1)]
    for x in range(width + 1):
        grid[0][x] = grid[rows][x] = "."
    for y in range(rows + 1):
        grid[y][0] = grid[y][width] = ":"
    for index, pane in enumerate(layout["panes"]):
        x0, x1 = _edges(pane["x"], pane["width"], width)
        y0, y1 = _edges(pane["y"], pane["height"], rows)
        _box(grid, x0, y0, x1, y1)
        if y1 - y0 >= 2 and x1 - x0 >= 2:
            label = plain(f"{tag(index)} {pane.get('user') or '(next)'}", x1 - x0 - 1)
            for offset, char in enumerate(label):
                grid[y0 + 1][x0 + 1 + offset] = char
    return ["".join(row) for row in grid]


def legend(layout: Mapping[str, Any], width: int) -> list[str]:
    """One line per pane: tag, user, position and size in percent of the canvas."""
    out = []
    for index, pane in enumerate(layout["panes"]):
        user = pane.get("user") or "next joiner"
        where = f"{_pct(pane['x'])},{_pct(pane['y'])} {_pct(pane['width'])}x{_pct(pane['height'])}"
        out.append(plain(f"{tag(index)} {user} {where}", width))
    return out


def title(layout: Mapping[str, Any], when: str, width: int) -> str:
    canvas = layout["canvas"]
    return plain(f"{when}: {layout.get('name') or 'layout'} {canvas.get('width')}x{canvas.get('height')}", width)


def picture(layout: Mapping[str, Any], when: str, *, width: int = WIDTH) -> list[str]:
    """Title, drawing and legend of one layout, every line padded to the drawing's width."""
    lines = [title(layout, when, width + 1), *draw(layout, width=width), *legend(layout, width + 1)]
    return [line.ljust(width + 1) for line in lines]


def side_by_side(left: list[str], right: list[str]) -> list[str]:
    """Two pictures next to each other; the shorter one is padded with blank lines."""
    span = max((len(line) for line in left), default=0)
    height = max(len(left), len(right))
    left = left + [""] * (height - len(left))
    right = right + [""] * (height - len(right))
    return [(a.ljust(span) + GAP + b).rstrip() for a, b in zip(left, right, strict=True)]


def before_after(before: Mapping[str, Any] | None, after: Mapping[str, Any], *, width: int = WIDTH) -> list[str]:
    """The layout change as one text block: before on the left (or a note when unknown), after on the right."""
    right = picture(after, "after", width=width)
    if before is None:
        return [line.rstrip() for line in right]
    return side_by_side(picture(before, "before", width=width), right)


def unknown_before(width: int = WIDTH) -> list[str]:
    lines = ["before: not known", "(the vendor cannot report", " the live layout)"]
    return [plain(line, width + 1).ljust(width + 1) for line in lines]
