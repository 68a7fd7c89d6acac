"""Which Layouts are Aliyun presets, which become custom layouts, and the rules of a task's layouts (pure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import ManifestErrors
from reconciler.model import load_manifests
from reconciler.vendors.aliyun.layouts import (
    PRESETS,
    match_preset,
    pane_ids,
    vendor_name,
    vendor_panes,
)


def pane(x: float, y: float, w: float, h: float, user: str | None = None) -> dict[str, Any]:
    return {"user": user, "x": x, "y": y, "width": w, "height": h}


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_documented_preset_is_recognised_within_the_tolerance(preset: int) -> None:
    panes = [pane(x + 0.004, y - 0.004 if y else y, w, h) for x, y, w, h, _z in PRESETS[preset]]
    assert match_preset(panes) == (preset, list(range(len(panes))))


def test_a_geometry_off_by_more_than_the_tolerance_is_custom() -> None:
    assert match_preset([pane(0, 0, 1, 1), pane(0.00625, 0.00625, 0.3, 0.3)]) is None


def test_stacking_order_matters_for_picture_in_picture() -> None:
    small, full = pane(0.00625, 0.00625, 0.2361, 0.2361), pane(0, 0, 1, 1)
    assert match_preset([full, small]) == (3, [0, 1])
    assert match_preset([small, full]) is None  # the small pane would be hidden under the full one


def test_tiles_listed_right_to_left_keep_the_presets_pane_ids() -> None:
    right, left = pane(0.501, 0.2516, 0.4968, 0.4968, "b"), pane(0.0021, 0.2516, 0.4968, 0.4968, "a")
    assert match_preset([right, left]) == (2, [1, 0])


def test_custom_pane_ids_run_top_left_to_bottom_right_and_z_order_is_list_order() -> None:
    panes = [pane(0, 0.5, 1, 0.5), pane(0.5, 0, 0.5, 0.5), pane(0, 0, 0.5, 0.5)]
    assert pane_ids(panes) == [2, 1, 0]
    assert vendor_panes(panes) == [
        {"paneId": 0, "majorPane": 0, "x": 0, "y": 0, "width": 0.5, "height": 0.5, "zOrder": 2},
        {"paneId": 1, "majorPane": 0, "x": 0.5, "y": 0, "width": 0.5, "height": 0.5, "zOrder": 1},
        {"paneId": 2, "majorPane": 1, "x": 0, "y": 0.5, "width": 1, "height": 0.5, "zOrder": 0},
    ]


def test_the_vendor_name_is_derived_from_app_and_layout() -> None:
    name = vendor_name("app", "speaker")
    assert name == vendor_name("app", "speaker") and name.startswith("rtcr-speaker-")
    assert name != vendor_name("other-app", "speaker") and len(vendor_name("app", "x" * 63)) <= 64


PROVIDER = """apiVersion: reconciler/v1
kind: Provider
metadata: {name: p}
spec:
  vendor: VENDOR
  appId: app
  credentials: CREDENTIALS
"""
LAYOUTS = """apiVersion: reconciler/v1
kind: Layout
metadata: {name: two}
spec:
  canvas: {width: 1280, height: 720}
  panes: [{x: 0, y: 0, width: 0.5, height: 1}, {x: 0.5, y: 0, width: 0.5, height: 1}]
---
apiVersion: reconciler/v1
kind: Layout
metadata: {name: one}
spec:
  canvas: {width: 1280, height: 720}
  panes: [{x: 0, y: 0, width: 1, height: 1}]
"""
TASK = """apiVersion: reconciler/v1
kind: MixTask
metadata: {name: t}
spec:
  provider: p
  channel: c
  layout: one
  layouts: [two]
  output: {streamUrl: "rtmp://push.example.com/live/t", streamId: s}
"""
CREDENTIALS = {"aliyun": "{accessKeyId: {env: ALIYUN_A}, accessKeySecret: {env: ALIYUN_B}}",
               "tencent": "{key: {env: TENCENT_A}}"}


def write(tmp_path: Path, vendor: str) -> Path:
    provider = PROVIDER.replace("VENDOR", vendor).replace("CREDENTIALS", CREDENTIALS[vendor])
    task = TASK if vendor == "tencent" else TASK.replace(", streamId: s", "")
    (tmp_path / "m.yaml").write_text("---\n".join([provider, LAYOUTS, task]))
    return tmp_path / "m.yaml"


def test_a_task_with_several_layouts_depends_on_its_custom_ones(tmp_path: Path) -> None:
    desired = {d.address: d for d in load_manifests([write(tmp_path, "aliyun")]).desired()}
    assert sorted(desired) == ["Layout/two@p", "MixTask/t"]  # `one` is preset 1: no resource
    assert desired["MixTask/t"].depends_on == ("Layout/two@p",)
    assert desired["Layout/two@p"].spec["name"] == vendor_name("app", "two")
    assert [p["paneId"] for p in desired["Layout/two@p"].spec["layout"]["panes"]] == [0, 1]


def test_several_layouts_are_aliyun_only(tmp_path: Path) -> None:
    path = write(tmp_path, "tencent")
    with pytest.raises(ManifestErrors) as caught:
        load_manifests([path])
    assert any(f"{path}:" in str(e) and "spec.layouts: only Aliyun switches a mix among layouts" in str(e)
               for e in caught.value.errors)
