"""Layout pictures: canvas to scale, panes where the layout puts them, labelled with their users."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from reconciler.render.svg import OPEN_PANE, LayoutPictureError, can_draw, layout_svg

NS = {"svg": "http://www.w3.org/2000/svg"}


def pane(user: str | None, x: float, y: float, w: float, h: float, **extra: Any) -> dict[str, Any]:
    return {"user": user, "x": x, "y": y, "width": w, "height": h, "fit": "crop", "source": "camera",
            "alpha": 1.0, **extra}


LAYOUT: dict[str, Any] = {
    "name": "speaker-plus-3",
    "canvas": {"width": 1280, "height": 720, "background": "#1A2B3C"},
    "panes": [pane("host", 0, 0, 0.75, 1), pane("guest1", 0.75, 0, 0.25, 0.33, source="screen"),
              pane("<b>&co", 0.75, 0.33, 0.25, 0.33), pane(None, 0.75, 0.66, 0.25, 0.34)],
}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # also proves the output is well-formed XML


def test_canvas_is_drawn_to_scale_in_its_own_pixels() -> None:
    root = parse(layout_svg(LAYOUT, display_width=640))
    assert root.get("viewBox") == "0 0 1280 720"
    assert (root.get("width"), root.get("height")) == ("640", "360")
    background = root.find("svg:rect", NS)
    assert background is not None and background.get("fill") == "#1A2B3C"
    portrait = parse(layout_svg({**LAYOUT, "canvas": {"width": 720, "height": 1280}}, display_width=360))
    assert (portrait.get("width"), portrait.get("height")) == ("360", "640")


def test_panes_are_placed_and_labelled_in_z_order() -> None:
    root = parse(layout_svg(LAYOUT))
    groups = root.findall("svg:g", NS)
    assert [g.get("id") for g in groups] == ["pane-0", "pane-1", "pane-2", "pane-3"]
    boxes = [g.find("svg:rect", NS).attrib for g in groups]  # type: ignore[union-attr]
    assert [(b["x"], b["y"], b["width"], b["height"]) for b in boxes] == [
        ("0", "0", "960", "720"), ("960", "0", "320", "237.6"), ("960", "237.6", "320", "237.6"),
        ("960", "475.2", "320", "244.8")]
    labels = [g.find("svg:text", NS).text for g in groups]  # type: ignore[union-attr]
    assert labels == ["host", "guest1", "<b>&co", "next joiner"]  # escaped in the text, intact when parsed
    assert "&lt;b&gt;&amp;co" in layout_svg(LAYOUT)
    assert boxes[3]["fill"] == OPEN_PANE and "stroke-dasharray" in boxes[3]
    assert "screen" in [t.text for t in groups[1].findall("svg:text", NS)][1]


def test_users_get_distinct_colours_that_follow_the_name() -> None:
    many = {**LAYOUT, "panes": [pane(f"user{i}", (i % 4) * 0.25, (i // 4) * 0.25, 0.25, 0.25) for i in range(12)]}
    fills = [g.find("svg:rect", NS).get("fill") for g in parse(layout_svg(many)).findall("svg:g", NS)]  # type: ignore[union-attr]
    assert len(set(fills)) == 12
    moved = {**LAYOUT, "panes": [pane("host", 0.5, 0.5, 0.5, 0.5)]}
    first = parse(layout_svg(LAYOUT)).find("svg:g/svg:rect", NS)
    again = parse(layout_svg(moved)).find("svg:g/svg:rect", NS)
    assert first is not None and again is not None and first.get("fill") == again.get("fill")


def test_a_preset_layout_has_nothing_to_draw() -> None:
    preset = {"type": "floating", "background": "#000000"}
    assert not can_draw(preset)
    with pytest.raises(LayoutPictureError):
        layout_svg(preset)
