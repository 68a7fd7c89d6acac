"""The Aliyun emulator's MPU layouts: CreateMPULayout, ModifyMPULayout, DescribeMPULayoutInfoList,
DeleteMPULayout, and the geometry of a task's mix (from the layout pages and the layout description).

Documented ranges enforced: AudioMixCount 0-6 (required on create, optional on modify), at most 16
`Panes.N` (N from 1), PaneId 0-15 and unique, X and Y in [0, 1], Width and Height in (0, 1],
MajorPane 0 or 1 with at most one main pane, ZOrder >= 0. Each action: 10 calls/s per user.

Assumptions where the pages are silent (also in docs/vendors/aliyun.md):
- error codes: a LayoutId unknown to the app answers 404 `InvalidLayout.NotFound`; deleting a layout
  a live task (status 0/1) lists in LayoutIds answers 400 `InvalidLayout.InUse`; a malformed
  parameter answers the common 400 InvalidParameter / MissingParameter;
- LayoutIds are integers from 1,000,001 up, never reused; Name is optional, at most 64 characters,
  and not unique; Describe pages by PageNum/PageSize (1-50, default 10), newest last;
- a task's `LayoutIds.N` must be presets (1-11, 13) or custom layouts of the same app, never two
  with the same pane count (the StartMPUTask page): otherwise 400 InvalidParameter `LayoutIds`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.vendors.aliyun.layouts import PRESETS

MAX_PANES = 16
MAX_AUDIO_MIX = 6
MAX_NAME = 64
FIRST_LAYOUT_ID = 1_000_001
PRESET_PANE_COUNTS = {1: 1, 2: 2, 3: 2, 4: 2, 5: 3, 6: 4, 7: 5, 8: 6, 9: 7, 10: 8, 11: 9, 13: 2}
ACTIONS = ("CreateMPULayout", "ModifyMPULayout", "DescribeMPULayoutInfoList", "DeleteMPULayout")
PANE = re.compile(r"^Panes\.(\d+)\.(\w+)$")

ErrorFactory = Callable[..., Exception]  # (code, detail="") -> the emulator's API error


@dataclass
class MpuLayout:
    layout_id: int
    app_id: str
    name: str
    audio_mix_count: int
    panes: list[dict[str, Any]]  # PaneId, MajorPane, X, Y, Width, Height, ZOrder

    def describe(self) -> dict[str, Any]:
        return {"LayoutId": self.layout_id, "Name": self.name, "AudioMixCount": self.audio_mix_count,
                "Panes": {"Panes": [dict(p) for p in self.panes]}}


class LayoutBook:
    """Every app's custom layouts; `error(code, detail)` builds the emulator's API error."""

    def __init__(self, error: ErrorFactory) -> None:
        self.error = error
        self.layouts: dict[int, MpuLayout] = {}
        self.next_id = FIRST_LAYOUT_ID

    # -- actions ---------------------------------------------------------------------------------
    def create(self, params: Mapping[str, str], app_id: str) -> dict[str, Any]:
        panes = self._panes(params, required=True)
        assert panes is not None
        layout = MpuLayout(self.next_id, app_id, self._name(params), self._audio(params, required=True), panes)
        self.next_id += 1
        self.layouts[layout.layout_id] = layout
        return {"LayoutId": layout.layout_id}

    def modify(self, params: Mapping[str, str], app_id: str) -> dict[str, Any]:
        layout = self.own(params.get("LayoutId", ""), app_id)
        panes = self._panes(params, required=False)
        if panes is not None:
            layout.panes = panes
        if params.get("AudioMixCount"):
            layout.audio_mix_count = self._audio(params, required=True)
        if "Name" in params:
            layout.name = self._name(params)
        return {}

    def describe(self, params: Mapping[str, str], app_id: str) -> dict[str, Any]:
        page = _int(params, "PageNum", 1, lambda v: v >= 1, self.error)
        size = _int(params, "PageSize", 10, lambda v: 1 <= v <= 50, self.error)
        found = [x for _, x in sorted(self.layouts.items()) if x.app_id == app_id]
        if params.get("LayoutId"):
            found = [x for x in found if str(x.layout_id) == params["LayoutId"]]
        if params.get("Name"):
            found = [x for x in found if x.name == params["Name"]]
        shown = found[(page - 1) * size: page * size]
        return {"TotalNum": len(found), "TotalPage": math.ceil(len(found) / size),
                "Layouts": {"Layout": [x.describe() for x in shown]}}

    def delete(self, params: Mapping[str, str], app_id: str, in_use: Callable[[int], bool]) -> dict[str, Any]:
        layout = self.own(params.get("LayoutId", ""), app_id)
        if in_use(layout.layout_id):
            raise self.error("InvalidLayout.InUse")
        del self.layouts[layout.layout_id]
        return {}

    # -- what tasks see --------------------------------------------------------------------------------
    def own(self, raw: str, app_id: str) -> MpuLayout:
        if not raw:
            raise self.error("MissingParameter", "LayoutId")
        layout = self.layouts.get(int(raw)) if raw.isdigit() else None
        if layout is None or layout.app_id != app_id:
            raise self.error("InvalidLayout.NotFound")
        return layout

    def check_task_layouts(self, layout_ids: list[int], app_id: str) -> None:
        """StartMPUTask / UpdateMPULayout: known ids, and no two of them with the same pane count."""
        counts: set[int] = set()
        for n, layout_id in enumerate(layout_ids, start=1):
            if layout_id in PRESET_PANE_COUNTS:
                count = PRESET_PANE_COUNTS[layout_id]
            else:
                custom = self.layouts.get(layout_id)
                if custom is None or custom.app_id != app_id:
                    raise self.error("InvalidParameter", f"LayoutIds.{n}")
                count = len(custom.panes)
            if count in counts:
                raise self.error("InvalidParameter", "LayoutIds")
            counts.add(count)

    def mix(self, layout_ids: list[int], user_panes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """What each of a task's layouts would draw: pane geometry with the user placed in it.

        A preset whose geometry is not documented (6-11, 13) is reported with `panes: null`."""
        out = []
        for layout_id in layout_ids:
            if layout_id in self.layouts:
                panes: list[dict[str, Any]] | None = [dict(p) for p in self.layouts[layout_id].panes]
            elif layout_id in PRESETS:
                panes = [{"PaneId": i, "MajorPane": 0, "X": g[0], "Y": g[1], "Width": g[2], "Height": g[3],
                          "ZOrder": g[4]} for i, g in enumerate(PRESETS[layout_id])]
            else:
                panes = None
            for pane in panes or []:
                user = next((u for u in user_panes if u["PaneId"] == pane["PaneId"]), None)
                pane["UserId"] = user["UserId"] if user else ""
                pane["SourceType"] = user["SourceType"] if user else ""
            out.append({"layoutId": layout_id, "panes": panes})
        return out

    def drift(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Console edits: {"layoutId": ID, "panes": [...]} replaces the panes; {"layoutId": ID, "delete": true}."""
        layout = self.layouts.get(int(body["layoutId"]))
        if layout is None:
            raise ValueError(f"no layout {body['layoutId']!r}")
        if body.get("delete"):
            del self.layouts[layout.layout_id]
            return {"deleted": layout.layout_id}
        if "panes" in body:
            layout.panes = [dict(p) for p in body["panes"]]
        if "audioMixCount" in body:
            layout.audio_mix_count = int(body["audioMixCount"])
        return {"layout": layout.describe()}

    def snapshot(self) -> dict[str, Any]:
        return {str(i): {"appId": x.app_id, **x.describe()} for i, x in sorted(self.layouts.items())}

    # -- parameters --------------------------------------------------------------------------------
    def _name(self, params: Mapping[str, str]) -> str:
        name = params.get("Name", "")
        if len(name) > MAX_NAME:
            raise self.error("InvalidParameter", "Name")
        return name

    def _audio(self, params: Mapping[str, str], *, required: bool) -> int:
        return _int(params, "AudioMixCount", None if required else 0, lambda v: 0 <= v <= MAX_AUDIO_MIX, self.error)

    def _panes(self, params: Mapping[str, str], *, required: bool) -> list[dict[str, Any]] | None:
        grouped: dict[int, dict[str, str]] = {}
        for key, value in params.items():
            match = PANE.match(key)
            if match:
                grouped.setdefault(int(match.group(1)), {})[match.group(2)] = value
        if not grouped:
            if required:
                raise self.error("MissingParameter", "Panes.N.PaneId")
            return None
        if sorted(grouped) != list(range(1, len(grouped) + 1)) or len(grouped) > MAX_PANES:
            raise self.error("InvalidParameter", f"Panes.N (N must be 1..{MAX_PANES}, contiguous)")
        panes = []
        for n, fields in sorted(grouped.items()):
            named = {f"Panes.{n}.{k}": v for k, v in fields.items()}
            panes.append({
                "PaneId": _int(named, f"Panes.{n}.PaneId", None, lambda v: 0 <= v < MAX_PANES, self.error),
                "MajorPane": _int(named, f"Panes.{n}.MajorPane", 0, lambda v: v in (0, 1), self.error),
                "X": _float(named, f"Panes.{n}.X", lambda v: 0 <= v <= 1, self.error),
                "Y": _float(named, f"Panes.{n}.Y", lambda v: 0 <= v <= 1, self.error),
                "Width": _float(named, f"Panes.{n}.Width", lambda v: 0 < v <= 1, self.error),
                "Height": _float(named, f"Panes.{n}.Height", lambda v: 0 < v <= 1, self.error),
                "ZOrder": _int(named, f"Panes.{n}.ZOrder", 0, lambda v: v >= 0, self.error),
            })
        if len({p["PaneId"] for p in panes}) != len(panes):
            raise self.error("InvalidParameter", "Panes.N.PaneId (each pane id once)")
        if sum(p["MajorPane"] for p in panes) > 1:
            raise self.error("InvalidParameter", "Panes.N.MajorPane (one main pane at most)")
        return panes


def _int(params: Mapping[str, str], name: str, default: int | None, ok: Callable[[int], bool],
         error: ErrorFactory) -> int:
    raw = params.get(name, "")
    if raw == "":
        if default is None:
            raise error("MissingParameter", name)
        return default
    try:
        value = int(raw)
    except ValueError:
        raise error("InvalidParameter", name) from None
    if not ok(value):
        raise error("InvalidParameter", name)
    return value


def _float(params: Mapping[str, str], name: str, ok: Callable[[float], bool], error: ErrorFactory) -> float:
    raw = params.get(name, "")
    if raw == "":
        raise error("MissingParameter", name)
    try:
        value = float(raw)
    except ValueError:
        raise error("InvalidParameter", name) from None
    if not math.isfinite(value) or not ok(value):
        raise error("InvalidParameter", name)
    return value
