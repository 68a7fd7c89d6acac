"""Aliyun MPU custom layouts (CreateMPULayout / ModifyMPULayout / DescribeMPULayoutInfoList /
DeleteMPULayout) and the task parameters that refer to them.

- A custom layout's Name is derived from the AppId and the Layout's name (`vendors.aliyun.layouts`),
  so every write is recoverable: a create first asks DescribeMPULayoutInfoList for that Name and
  adopts (and modifies) a layout that exists already, so a create whose answer was lost never makes a
  second layout; an interrupted create is found by Name when the next run observes it.
- Observing reports the layout's panes and audio mix count as Describe gives them, so a layout
  edited in the console is drift the planner repairs with ModifyMPULayout.
- A task's `LayoutIds.N` are preset ids or the LayoutIds of its custom layouts (learnt in this run,
  or looked up by Name); `UserPanes.N.PaneId` are the layout's own pane ids.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from reconciler.errors import VendorConflict, VendorError
from reconciler.records import Observation
from reconciler.vendors.aliyun.layouts import match_preset, pane_ids, task_layouts, vendor_name

Call = Callable[[str, Mapping[str, str]], Awaitable[dict[str, Any]]]  # each action paced in its own window
CROP_MODES = {"stretch": 0, "crop": 1, "fit": 2}
SOURCE_TYPES = {"camera": "camera", "screen": "shareScreen"}
PAGE_SIZE = 50


def pane_params(layout: Mapping[str, Any]) -> dict[str, str]:
    """CreateMPULayout / ModifyMPULayout parameters of a desired custom layout spec ("layout" part)."""
    params = {"AudioMixCount": str(layout["audioMixCount"])}
    for n, pane in enumerate(layout["panes"], start=1):
        params.update({f"Panes.{n}.PaneId": str(pane["paneId"]), f"Panes.{n}.MajorPane": str(pane["majorPane"]),
                       f"Panes.{n}.X": str(pane["x"]), f"Panes.{n}.Y": str(pane["y"]),
                       f"Panes.{n}.Width": str(pane["width"]), f"Panes.{n}.Height": str(pane["height"]),
                       f"Panes.{n}.ZOrder": str(pane["zOrder"])})
    return params


def reported_layout(found: Mapping[str, Any]) -> dict[str, Any]:
    """A Describe entry in the desired spec's form ("layout" part)."""
    panes = found.get("Panes", {})
    items = panes.get("Panes", []) if isinstance(panes, Mapping) else panes
    return {"audioMixCount": int(found.get("AudioMixCount", 0)),
            "panes": sorted(({"paneId": int(p["PaneId"]), "majorPane": int(p.get("MajorPane", 0)),
                              "x": float(p["X"]), "y": float(p["Y"]), "width": float(p["Width"]),
                              "height": float(p["Height"]), "zOrder": int(p.get("ZOrder", 0))} for p in items),
                            key=lambda p: p["paneId"])}


class AliyunLayouts:
    """The custom layouts of one Aliyun app, through the provider's signed, rate-limited `call`."""

    def __init__(self, app_id: str, call: Call) -> None:
        self.app_id = app_id
        self.call = call
        self.ids: dict[str, str] = {}  # vendor Name -> LayoutId, as learnt in this run

    async def find(self, *, layout_id: str = "", name: str = "") -> dict[str, Any] | None:
        """The Describe entry of one layout, by LayoutId or by Name, or None when Aliyun has none."""
        params = {"AppId": self.app_id, "PageNum": "1", "PageSize": str(PAGE_SIZE)}
        if layout_id:
            params["LayoutId"] = layout_id
        else:
            params["Name"] = name
        body = await self.call("DescribeMPULayoutInfoList", params)
        layouts = body.get("Layouts", {})
        entries = layouts.get("Layout", []) if isinstance(layouts, Mapping) else layouts
        for entry in entries or []:
            if (layout_id and str(entry.get("LayoutId")) == layout_id) or (not layout_id and entry.get("Name") == name):
                if entry.get("Name"):
                    self.ids[str(entry["Name"])] = str(entry["LayoutId"])
                return dict(entry)
        return None

    async def observe(self, handles: Mapping[str, str], spec: Mapping[str, Any] | None) -> Observation:
        layout_id = handles.get("LayoutId", "")
        name = str((spec or {}).get("name", ""))
        if not layout_id and not name:
            return Observation("absent", "no LayoutId recorded")
        found = await self.find(layout_id=layout_id, name=name)
        if found is None:
            what = f"LayoutId {layout_id}" if layout_id else f"a layout named {name}"
            return Observation("absent", f"Aliyun has no {what} (deleted in the console?)", handles=dict(handles))
        return Observation("active", fields={"layout": reported_layout(found)},
                           handles={"LayoutId": str(found["LayoutId"])})

    async def create(self, spec: Mapping[str, Any]) -> dict[str, str]:
        """CreateMPULayout, unless a layout of this Name exists (an earlier create whose answer was lost)."""
        name = str(spec["name"])
        found = await self.find(name=name)
        if found is not None:
            handles = {"LayoutId": str(found["LayoutId"])}
            if reported_layout(found) != spec["layout"]:
                await self.modify(handles, spec)
            return handles
        body = await self.call("CreateMPULayout", {"AppId": self.app_id, "Name": name,
                                                   **pane_params(spec["layout"])})
        layout_id = str(body.get("LayoutId", ""))
        if not layout_id:
            raise VendorError("aliyun", "NoLayoutId", "CreateMPULayout answered without a LayoutId", transient=True,
                              action="CreateMPULayout")
        self.ids[name] = layout_id
        return {"LayoutId": layout_id}

    async def modify(self, handles: Mapping[str, str], spec: Mapping[str, Any]) -> None:
        await self.call("ModifyMPULayout", {"AppId": self.app_id, "LayoutId": handles["LayoutId"],
                                            "Name": str(spec["name"]), **pane_params(spec["layout"])})

    async def delete(self, handles: Mapping[str, str]) -> None:
        if handles.get("LayoutId"):
            await self.call("DeleteMPULayout", {"AppId": self.app_id, "LayoutId": handles["LayoutId"]})

    async def layout_id(self, layout: Mapping[str, Any]) -> str:
        """The LayoutIds.N value of one normalised Layout: its preset id, or its custom layout's LayoutId."""
        preset = match_preset(layout["panes"])
        if preset is not None:
            return str(preset[0])
        name = vendor_name(self.app_id, str(layout["name"]))
        if name not in self.ids and await self.find(name=name) is None:
            raise VendorConflict("aliyun", "Layout.NotCreated",
                                 f"the custom layout {name} for Layout/{layout['name']} does not exist at Aliyun; "
                                 "plan and apply again to create it", transient=False, action="StartMPUTask")
        return self.ids[name]

    async def task_params(self, spec: Mapping[str, Any]) -> dict[str, str]:
        """LayoutIds.N, UserPanes.N.*, CropMode and BackgroundColor of a MixTask spec."""
        params = {f"LayoutIds.{n}": await self.layout_id(layout)
                  for n, layout in enumerate(task_layouts(spec), start=1)}
        layout = spec["layout"]
        panes = list(layout["panes"])
        ids = pane_ids(panes)
        n = 0
        for pane_id, pane in sorted(zip(ids, panes, strict=True), key=lambda item: item[0]):
            if pane.get("user"):
                n += 1
                params[f"UserPanes.{n}.PaneId"] = str(pane_id)
                params[f"UserPanes.{n}.UserId"] = str(pane["user"])
                params[f"UserPanes.{n}.SourceType"] = SOURCE_TYPES[pane.get("source") or "camera"]
        params["CropMode"] = str(CROP_MODES[panes[0].get("fit") or "crop"])  # one fit for all (rules_aliyun)
        params["BackgroundColor"] = str(int(str(layout["canvas"].get("background", "#000000")).lstrip("#"), 16))
        return params
