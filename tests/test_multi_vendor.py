"""examples/multi-vendor end to end: one Layout mixed on Aliyun and ZEGO and recorded on anyRTC."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.emulator.cluster import EmulatorCluster
from reconciler.model import load_manifests
from tests.cli.helpers import actions, copy_example, reconciler
from tests.conftest import REPO, control

READS = {"GetMPUTaskStatus", "DescribeMPULayoutInfoList", "GetMixTaskInfo", "DescribeRTCStreamState", "query"}


def writes(vendors: EmulatorCluster) -> dict[str, dict[str, int]]:
    out = {}
    for vendor in ("aliyun", "zego", "anyrtc"):
        out[vendor] = {a: n for a, n in sorted(actions(vendors, vendor).items()) if a not in READS}
    return out


def test_the_example_validates_with_one_layout_for_three_vendors() -> None:
    manifests = load_manifests([REPO / "examples" / "multi-vendor"])
    desired = {d.address: d for d in manifests.desired()}
    assert {a: d.vendor for a, d in desired.items()} == {
        "MixTask/launch-aliyun": "aliyun", "MixTask/launch-zego": "zego", "Recording/launch-archive": "anyrtc",
        "Layout/launch-stage@ali-demo": "aliyun"}  # a custom layout on Aliyun is a vendor resource of its own
    layouts = {d.spec["layout"]["name"] for d in desired.values() if d.kind != "Layout"}
    assert layouts == {"launch-stage"}


def test_apply_once_then_a_layout_change_updates_all_three_in_place(
        vendors: EmulatorCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifests = copy_example("multi-vendor", tmp_path)
    first = reconciler(capsys, "apply", str(manifests), "--auto-approve")
    assert first.code == 0 and "Apply: 4 succeeded, 0 failed" in first.out, first.out + first.err
    assert writes(vendors) == {"aliyun": {"CreateMPULayout": 1, "StartMPUTask": 1}, "zego": {"StartMix": 1},
                               "anyrtc": {"acquire": 1, "start": 1}}
    assert reconciler(capsys, "apply", str(manifests), "--auto-approve").code == 0
    assert reconciler(capsys, "plan", str(manifests), "--detailed-exitcode").code == 0
    assert writes(vendors) == {"aliyun": {"CreateMPULayout": 1, "StartMPUTask": 1}, "zego": {"StartMix": 1},
                               "anyrtc": {"acquire": 1, "start": 1}}

    layout = manifests / "layout.yaml"
    layout.write_text(layout.read_text().replace('user: "1002"', 'user: "1004"'))
    changed = reconciler(capsys, "plan", str(manifests), "--detailed-exitcode")
    assert changed.code == 2 and changed.out.count("layout.panes[1].user") == 3, changed.out
    assert reconciler(capsys, "apply", str(manifests), "--auto-approve").code == 0
    after = writes(vendors)
    assert after["aliyun"] == {"CreateMPULayout": 1, "StartMPUTask": 1, "UpdateMPULayout": 1}  # no layout call
    assert after["zego"] == {"StartMix": 2}
    assert after["anyrtc"] == {"acquire": 1, "start": 1, "updateLayout": 1}
    [mix] = control(vendors, "zego", "state")["tasks"]["mixes"].values()
    assert [(i["StreamId"], i["RectInfo"]) for i in mix["input"]] == [
        ("1001", {"Top": 0, "Left": 0, "Bottom": 720, "Right": 960}),
        ("1004", {"Top": 0, "Left": 960, "Bottom": 360, "Right": 1280}),
        ("1003", {"Top": 360, "Left": 960, "Bottom": 720, "Right": 1280})]
    assert reconciler(capsys, "plan", str(manifests), "--detailed-exitcode").code == 0
