"""A Layout as an SVG picture: the canvas to scale, each pane a rectangle labelled with its user.

Pure: a normalised layout dict (as `LayoutSpec.normalised()` or a desired spec's `layout` makes it)
in, SVG text out; no I/O. The viewBox is the canvas in its own pixels, so proportions are exact
whatever size the picture is shown at; `display_width` only sets the default rendered size.
Panes are drawn in list order (z-order), each user gets a colour from its name (distinct within a picture), and a pane
without a user is drawn hatched-grey as "next joiner".
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape, quoteattr

DISPLAY_WIDTH = 360
PALETTE = ("#4E79A7", "#F28E2B", "#59A14F", "#B07AA1", "#EDC948", "#76B7B2", "#E15759", "#9C755F",
           "#FF9DA7", "#86BCB6", "#8CD17D", "#D4A6C8")
OPEN_PANE = "#6B6B6B"


class LayoutPictureError(ValueError):
    """The layout has no canvas and panes to draw (e.g. a vendor preset layout)."""


def can_draw(layout: Any) -> bool:
    return (isinstance(layout, Mapping) and isinstance(layout.get("canvas"), Mapping)
            and isinstance(layout.get("panes"), list))


def user_colours(users: list[str | None]) -> dict[str | None, str]:
    """A colour per user, chosen from the name (stable across pictures), moving on when taken."""
    taken: set[int] = set()
    out: dict[str | None, str] = {None: OPEN_PANE}
    for user in sorted({u for u in users if u}):
        slot = int(hashlib.sha256(user.encode()).hexdigest()[:8], 16) % len(PALETTE)
        for step in range(len(PALETTE)):
            if (slot + step) % len(PALETTE) not in taken:
                slot = (slot + step) % len(PALETTE)
                break
        taken.add(slot)
        out[user] = PALETTE[slot]
        if len(taken) == len(PALETTE):
            taken.clear()
    return out


def layout_svg(layout: Mapping[str, Any], *, title: str | None = None, display_width: int = DISPLAY_WIDTH) -> str:
    """The SVG document of one layout. Raises LayoutPictureError when there is nothing to draw."""
    if not can_draw(layout):
        raise LayoutPictureError("only a layout with a canvas and panes can be drawn")
    canvas = layout["canvas"]
    width, height = int(canvas["width"]), int(canvas["height"])
    background = str(canvas.get("background") or "#000000")
    display_height = max(1, round(display_width * height / width))
    caption = title if title is not None else str(layout.get("name") or "layout")
    stroke = max(1.0, width / 320)
    parts = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{display_width}" height="{display_height}" font-family="Helvetica, Arial, sans-serif">'),
        f"<title>{escape(caption)} ({width}x{height}, {len(layout['panes'])} panes)</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill={quoteattr(background)}/>',
    ]
    colours = user_colours([p.get("user") for p in layout["panes"]])
    for index, pane in enumerate(layout["panes"]):
        parts.extend(_pane(index, pane, width, height, stroke, colours.get(pane.get("user"), OPEN_PANE)))
    parts.append(f'<rect x="0" y="0" width="{width}" height="{height}" fill="none" stroke="#999999" '
                 f'stroke-width="{_n(stroke)}"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _pane(index: int, pane: Mapping[str, Any], width: int, height: int, stroke: float, colour: str) -> list[str]:
    x, y = float(pane["x"]) * width, float(pane["y"]) * height
    w, h = float(pane["width"]) * width, float(pane["height"]) * height
    user = pane.get("user")
    alpha = float(pane.get("alpha", 1.0))
    label = str(user) if user else "next joiner"
    extras = [e for e in (("screen" if pane.get("source") == "screen" else ""), str(pane.get("fit") or "")) if e]
    out = [
        f'<g id="pane-{index}">',
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="{colour}" '
        f'fill-opacity="{_n(0.85 * alpha)}" stroke="#FFFFFF" stroke-width="{_n(stroke)}"'
        + (f' stroke-dasharray="{_n(stroke * 4)} {_n(stroke * 3)}"' if not user else "") + "/>",
    ]
    size = max(8.0, min(h / 4, w / max(4, len(label)) * 1.6, height / 12))
    out.append(f'<text x="{_n(x + w / 2)}" y="{_n(y + h / 2)}" font-size="{_n(size)}" fill="#FFFFFF" '
               f'text-anchor="middle" dominant-baseline="middle">{escape(label)}</text>')
    if extras and h > size * 2.6:
        small = size * 0.6
        out.append(f'<text x="{_n(x + w / 2)}" y="{_n(y + h / 2 + size * 1.1)}" font-size="{_n(small)}" '
                   f'fill="#FFFFFF" fill-opacity="0.8" text-anchor="middle" '
                   f'dominant-baseline="middle">{escape(", ".join(extras))}</text>')
    out.append("</g>")
    return out


def _n(value: float) -> str:
    """Numbers in SVG: at most two decimals, no trailing zeros, so output is stable and short."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"
