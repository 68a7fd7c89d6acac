"""`Layout`: a vendor-neutral picture of a mix: a canvas and panes in relative coordinates.

Panes are listed bottom to top (z-order = list order). Each provider translates a Layout into its
own form (Aliyun presets and UserPanes, Tencent/ZEGO pixels, anyRTC relative panes) or its
validation rule says why it cannot.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from reconciler.model.base import HEX_COLOUR, StrictModel, is_hex_colour
from reconciler.model.registry import register_kind

Fit = Literal["crop", "fit", "stretch"]
MAX_PANES = 17  # the largest any vendor accepts (anyRTC); vendor rules narrow it


class Canvas(StrictModel):
    width: int = Field(ge=16, le=4096)
    height: int = Field(ge=16, le=4096)
    background: str = Field(default="#000000", json_schema_extra={"pattern": HEX_COLOUR.pattern})

    @field_validator("background")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not is_hex_colour(value):
            raise ValueError("expected a colour like \"#1a2b3c\"")
        return value.upper()


class Pane(StrictModel):
    user: str | None = Field(default=None, min_length=1, max_length=64)
    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    width: float = Field(gt=0, le=1)
    height: float = Field(gt=0, le=1)
    fit: Fit | None = None
    source: Literal["camera", "screen"] = "camera"
    alpha: float = Field(default=1.0, ge=0, le=1)

    @model_validator(mode="after")
    def _inside_canvas(self) -> "Pane":
        eps = 1e-9
        if self.x + self.width > 1 + eps:
            raise ValueError(f"pane extends past the right edge of the canvas (x + width = {self.x + self.width:g} > 1)")
        if self.y + self.height > 1 + eps:
            raise ValueError(
                f"pane extends past the bottom edge of the canvas (y + height = {self.y + self.height:g} > 1)"
            )
        return self


@register_kind("Layout", managed=False)
class LayoutSpec(StrictModel):
    canvas: Canvas
    fit: Fit = "crop"  # default for panes that do not say
    panes: list[Pane] = Field(min_length=1, max_length=MAX_PANES)

    @model_validator(mode="after")
    def _users_unique(self) -> "LayoutSpec":
        seen: set[str] = set()
        for pane in self.panes:
            if pane.user is not None:
                if pane.user in seen:
                    raise ValueError(f"user {pane.user!r} appears in more than one pane")
                seen.add(pane.user)
        return self

    def normalised(self) -> dict[str, object]:
        """The layout as plain data with every default filled in, so diffs never flag defaults."""
        return {
            "canvas": {"width": self.canvas.width, "height": self.canvas.height, "background": self.canvas.background},
            "panes": [
                {
                    "user": p.user,
                    "x": round(p.x, 6),
                    "y": round(p.y, 6),
                    "width": round(p.width, 6),
                    "height": round(p.height, 6),
                    "fit": p.fit or self.fit,
                    "source": p.source,
                    "alpha": round(p.alpha, 6),
                }
                for p in self.panes
            ],
        }
