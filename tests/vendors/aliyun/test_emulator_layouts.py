"""The Aliyun emulator's MPU layouts, driven by the official SDK (`CommonRequest`) over real sockets:
the four layout actions, their documented ranges and rate, and the geometry a task's mix takes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest
from conftest import control

from reconciler.emulator.cluster import EmulatorCluster

AK, SECRET, APP = "LTAI5tDemoAccessKey00001", "demoSecretForTheAliyunEmulator", "demo-aliyun-app"
OTHER_AK, OTHER_SECRET = "LTAI5tDemoAccessKey00002", "otherSecretForAliyunEmulator02"
SIDE_BY_SIDE = [(0, 0, 0.5, 1), (0.5, 0, 0.5, 1)]


def sdk(vendors: EmulatorCluster, action: str, params: dict[str, Any], *, key: str = AK,
        secret: str = SECRET) -> dict[str, Any]:
    """One call through the official SDK, as a user would make it (POST, parameters in the query)."""
    request = CommonRequest(domain=vendors.endpoints["aliyun"].split("://", 1)[1], version="2018-01-11",
                            action_name=action, product="rtc")
    request.set_protocol_type("http")
    request.set_method("POST")
    for name, value in {"AppId": APP, **params}.items():
        request.add_query_param(name, value)
    client = AcsClient(key, secret, "cn-hangzhou", auto_retry=False)
    return dict(json.loads(client.do_action_with_exception(request)))


def refused(vendors: EmulatorCluster, action: str, params: dict[str, Any], **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(ServerException) as caught:
        sdk(vendors, action, params, **kwargs)
    return caught.value.get_http_status(), caught.value.get_error_code()


def panes(geometry: list[tuple[float, float, float, float]], major: int = -1) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n, (x, y, w, h) in enumerate(geometry, start=1):
        out.update({f"Panes.{n}.PaneId": n - 1, f"Panes.{n}.MajorPane": int(n - 1 == major), f"Panes.{n}.X": x,
                    f"Panes.{n}.Y": y, f"Panes.{n}.Width": w, f"Panes.{n}.Height": h, f"Panes.{n}.ZOrder": n - 1})
    return out


def test_create_describe_modify_delete_with_the_sdk(vendors: EmulatorCluster) -> None:
    created = sdk(vendors, "CreateMPULayout", {"Name": "side", "AudioMixCount": 2, **panes(SIDE_BY_SIDE, major=0)})
    layout_id = created["LayoutId"]
    assert isinstance(layout_id, int) and "RequestId" in created
    found = sdk(vendors, "DescribeMPULayoutInfoList", {"Name": "side"})
    assert (found["TotalNum"], found["TotalPage"]) == (1, 1)
    [entry] = found["Layouts"]["Layout"]
    assert (entry["LayoutId"], entry["Name"], entry["AudioMixCount"]) == (layout_id, "side", 2)
    assert entry["Panes"]["Panes"][1] == {"PaneId": 1, "MajorPane": 0, "X": 0.5, "Y": 0.0, "Width": 0.5,
                                          "Height": 1.0, "ZOrder": 1}
    sdk(vendors, "ModifyMPULayout", {"LayoutId": layout_id, **panes([(0, 0, 1, 1)])})
    [entry] = sdk(vendors, "DescribeMPULayoutInfoList", {"LayoutId": layout_id})["Layouts"]["Layout"]
    assert len(entry["Panes"]["Panes"]) == 1 and entry["AudioMixCount"] == 2  # AudioMixCount kept when omitted
    sdk(vendors, "DeleteMPULayout", {"LayoutId": layout_id})
    assert sdk(vendors, "DescribeMPULayoutInfoList", {})["TotalNum"] == 0
    assert refused(vendors, "DeleteMPULayout", {"LayoutId": layout_id}) == (404, "InvalidLayout.NotFound")


@pytest.mark.parametrize(("params", "field"), [
    ({"AudioMixCount": 7, **panes(SIDE_BY_SIDE)}, "AudioMixCount"),
    ({**panes(SIDE_BY_SIDE)}, "AudioMixCount"),
    ({"AudioMixCount": 1, **panes([(0, 0, 0.25, 0.25)] * 17)}, "Panes.N"),
    ({"AudioMixCount": 1, **panes([(1.5, 0, 0.5, 1)])}, "Panes.1.X"),
    ({"AudioMixCount": 1, **panes([(0, 0, 0, 1)])}, "Panes.1.Width"),
    ({"AudioMixCount": 1, **panes(SIDE_BY_SIDE), "Panes.2.MajorPane": 1, "Panes.1.MajorPane": 1}, "MajorPane"),
    ({"AudioMixCount": 1, **panes(SIDE_BY_SIDE), "Panes.2.PaneId": 0}, "PaneId"),
])
def test_the_documented_ranges_are_enforced(vendors: EmulatorCluster, params: dict[str, Any], field: str) -> None:
    with pytest.raises(ServerException) as caught:
        sdk(vendors, "CreateMPULayout", params)
    assert caught.value.get_http_status() == 400
    assert caught.value.get_error_code() in ("InvalidParameter", "MissingParameter")
    assert field in caught.value.get_error_msg()  # the message names the parameter out of range
    assert sdk(vendors, "DescribeMPULayoutInfoList", {})["TotalNum"] == 0


def test_sixteen_panes_are_accepted(vendors: EmulatorCluster) -> None:
    grid = [((i % 4) / 4, (i // 4) / 4, 0.25, 0.25) for i in range(16)]
    assert "LayoutId" in sdk(vendors, "CreateMPULayout", {"AudioMixCount": 6, **panes(grid)})


def test_ten_calls_per_second_per_user_for_each_layout_action(vendors: EmulatorCluster) -> None:
    limits = control(vendors, "aliyun", "limits", {})["limits"]  # the shared limiter enforces them (tested apart)
    for action in ("CreateMPULayout", "ModifyMPULayout", "DescribeMPULayoutInfoList", "DeleteMPULayout"):
        assert limits[action] == {"calls": 10, "window": 1.0}


def test_layouts_belong_to_their_app(vendors: EmulatorCluster) -> None:
    layout_id = sdk(vendors, "CreateMPULayout", {"AudioMixCount": 2, **panes(SIDE_BY_SIDE)})["LayoutId"]
    other = {"AppId": "demo-aliyun-other", "LayoutId": layout_id}
    assert refused(vendors, "ModifyMPULayout", {**other, **panes(SIDE_BY_SIDE)}, key=OTHER_AK,
                   secret=OTHER_SECRET) == (404, "InvalidLayout.NotFound")


def test_a_task_draws_its_layout_and_follows_a_modification(vendors: EmulatorCluster) -> None:
    layout_id = sdk(vendors, "CreateMPULayout", {"AudioMixCount": 2, **panes(SIDE_BY_SIDE)})["LayoutId"]
    start = {"ChannelId": "room1", "TaskId": "t1", "MediaEncode": 20, "StreamURL": "rtmp://push.example.com/live/a",
             "LayoutIds.1": layout_id, "UserPanes.1.PaneId": 1, "UserPanes.1.UserId": "guest"}
    sdk(vendors, "StartMPUTask", start)
    [mix] = control(vendors, "aliyun", "state")["tasks"]["t1"]["mix"]
    assert mix["layoutId"] == layout_id
    assert [(p["UserId"], p["X"], p["Width"]) for p in mix["panes"]] == [("", 0, 0.5), ("guest", 0.5, 0.5)]
    sdk(vendors, "ModifyMPULayout", {"LayoutId": layout_id, **panes([(0, 0, 0.3, 1), (0.3, 0, 0.7, 1)])})
    [mix] = control(vendors, "aliyun", "state")["tasks"]["t1"]["mix"]
    assert [(p["UserId"], p["X"], p["Width"]) for p in mix["panes"]] == [("", 0, 0.3), ("guest", 0.3, 0.7)]
    assert refused(vendors, "DeleteMPULayout", {"LayoutId": layout_id}) == (400, "InvalidLayout.InUse")
    sdk(vendors, "StopMPUTask", {"TaskId": "t1"})
    sdk(vendors, "DeleteMPULayout", {"LayoutId": layout_id})


def test_a_task_never_takes_two_layouts_with_the_same_pane_count(vendors: EmulatorCluster) -> None:
    base = {"ChannelId": "room1", "TaskId": "t1", "MediaEncode": 20, "StreamURL": "rtmp://push.example.com/live/a"}
    assert refused(vendors, "StartMPUTask", {**base, "LayoutIds.1": 2, "LayoutIds.2": 3}) == (400, "InvalidParameter")
    layout_id = sdk(vendors, "CreateMPULayout", {"AudioMixCount": 2, **panes(SIDE_BY_SIDE)})["LayoutId"]
    assert refused(vendors, "StartMPUTask", {**base, "LayoutIds.1": 1, "LayoutIds.2": layout_id,
                                             "LayoutIds.3": 13}) == (400, "InvalidParameter")
    assert refused(vendors, "StartMPUTask", {**base, "LayoutIds.1": 999}) == (400, "InvalidParameter")  # unknown
    sdk(vendors, "StartMPUTask", {**base, "LayoutIds.1": 1, "LayoutIds.2": layout_id, "LayoutIds.3": 5})
    assert [m["layoutId"] for m in control(vendors, "aliyun", "state")["tasks"]["t1"]["mix"]] == [1, layout_id, 5]
