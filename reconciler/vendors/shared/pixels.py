"""Pixel layouts shared by the vendors that place panes in pixels of the output (ZEGO, Tencent).

The output presets behind `output.encoding`, the pixel rectangle of a pane, and the checks both
vendors' rules make (uint32 app ids, a canvas the size of the output). Pure: rules and providers
of either vendor import it, neither vendor owns it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from reconciler.model.layout import LayoutSpec

UINT32_MAX = 4_294_967_295


class VideoPreset(NamedTuple):
    width: int
    height: int
    fps: int
    kbps: int


# `output.encoding` -> the video the vendor produces (sizes are the usual names; bitrates ZEGO/Tencent defaults)
VIDEO_PRESETS: dict[str, VideoPreset] = {
    "360p": VideoPreset(640, 360, 15, 600),
    "540p": VideoPreset(960, 540, 15, 1000),
    "720p": VideoPreset(1280, 720, 15, 1500),
    "720p-portrait": VideoPreset(720, 1280, 15, 1500),
    "1080p": VideoPreset(1920, 1080, 15, 3000),
}


class PixelRect(NamedTuple):
    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


def pixel_rect(pane: Mapping[str, Any], width: int, height: int) -> PixelRect:
    """A pane's rectangle in pixels; edges are rounded, so neighbouring panes share an edge exactly."""
    left = round(float(pane["x"]) * width)
    top = round(float(pane["y"]) * height)
    right = min(width, round((float(pane["x"]) + float(pane["width"])) * width))
    bottom = min(height, round((float(pane["y"]) + float(pane["height"])) * height))
    return PixelRect(left, top, right, bottom)


def uint32_problem(app_id: str, what: str) -> str | None:
    if not app_id.isdigit() or not 0 < int(app_id) <= UINT32_MAX:
        return f"{what} must be a number between 1 and {UINT32_MAX} (a uint32), got {app_id!r}"
    return None


def canvas_problem(layout_name: str, layout: LayoutSpec, encoding: str, vendor: str) -> str | None:
    preset = VIDEO_PRESETS.get(encoding)
    if preset is None:
        return None
    if (layout.canvas.width, layout.canvas.height) != (preset.width, preset.height):
        return (
            f"layout {layout_name!r} has a {layout.canvas.width}x{layout.canvas.height} canvas but encoding "
            f"{encoding!r} outputs {preset.width}x{preset.height}; {vendor} places panes in pixels of the output, "
            f"so use a {preset.width}x{preset.height} canvas or the encoding that matches the canvas"
        )
    return None
