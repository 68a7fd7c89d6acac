"""The Aliyun emulator's MPU task: its record and the parameters the task actions take (LayoutIds.N,
UserPanes.N.*, CropMode, BackgroundColor, MediaEncode, TaskProfile) with the ranges the document gives."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.vendors.aliyun.emulator_errors import ApiError

MAX_N = 15
TASK_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CHANNEL_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MEDIA_ENCODES = frozenset({0, 1, 10, 20, 22, 30})
TASK_PROFILES = frozenset({"4IN_720P", "2IN_720P", "1IN_720P", "4IN_360P", "2IN_360P", "1IN_360P",
                           "Mixed_Audio", "1IN_Audio"})
SOURCE_TYPES = frozenset({"camera", "shareScreen"})
LIVE = (0, 1)  # waiting for the channel, running


@dataclass
class MpuTask:
    task_id: str
    app_id: str
    channel: str
    stream_url: str
    status: int
    media_encode: int
    task_profile: str | None
    layout: dict[str, Any]
    params: dict[str, str]
    started_at: float
    stopped_at: float | None = None
    history: list[str] = field(default_factory=list)

    def snapshot(self) -> dict[str, Any]:
        return {"taskId": self.task_id, "appId": self.app_id, "status": self.status, "channel": self.channel,
                "streamUrl": self.stream_url, "mediaEncode": self.media_encode, "taskProfile": self.task_profile,
                **self.layout, "params": dict(self.params), "startedAt": self.started_at,
                "stoppedAt": self.stopped_at, "history": list(self.history)}


def int_param(params: Mapping[str, str], name: str, default: int | None, ok: Callable[[int], bool]) -> int:
    """An integer parameter: MissingParameter when required and absent, InvalidParameter when not `ok`."""
    raw = params.get(name)
    if raw is None or raw == "":
        if default is None:
            raise ApiError("MissingParameter", name)
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError("InvalidParameter", name) from None
    if not ok(value):
        raise ApiError("InvalidParameter", name)
    return value


def _numbered(params: Mapping[str, str], prefix: str) -> dict[int, dict[str, str]]:
    """`Prefix.N` and `Prefix.N.Field` parameters grouped by N (1..15), field "" for the bare form."""
    found: dict[int, dict[str, str]] = {}
    pattern = re.compile(rf"^{re.escape(prefix)}\.(\d+)(?:\.(\w+))?$")
    for key, value in params.items():
        match = pattern.match(key)
        if match is None:
            continue
        n = int(match.group(1))
        if not 1 <= n <= MAX_N:
            raise ApiError("InvalidParameter", f"{prefix}.{match.group(1)} (N must be 1..{MAX_N})")
        found.setdefault(n, {})[match.group(2) or ""] = value
    return found


def parse_layout(params: Mapping[str, str]) -> dict[str, Any]:
    """LayoutIds.N, UserPanes.N.*, CropMode, BackgroundColor, as StartMPUTask and the updates take them."""
    layout_ids = [int_param({f"LayoutIds.{n}": f.get("", "")}, f"LayoutIds.{n}", None, lambda v: v >= 1)
                  for n, f in sorted(_numbered(params, "LayoutIds").items())]
    if not layout_ids:
        raise ApiError("MissingParameter", "LayoutIds.N")
    panes: list[dict[str, Any]] = []
    for n, fields in sorted(_numbered(params, "UserPanes").items()):
        name = f"UserPanes.{n}.PaneId"
        pane_id = int_param({name: fields.get("PaneId", "")}, name, None, lambda v: 0 <= v < MAX_N)
        source = fields.get("SourceType") or "camera"
        if source not in SOURCE_TYPES:
            raise ApiError("InvalidParameter", f"UserPanes.{n}.SourceType")
        if any(p["PaneId"] == pane_id for p in panes):
            raise ApiError("InvalidParameter", name)
        panes.append({"PaneId": pane_id, "UserId": fields.get("UserId", ""), "SourceType": source})
    return {
        "layoutIds": layout_ids,
        "userPanes": panes,
        "cropMode": int_param(params, "CropMode", 2, lambda v: 0 <= v <= 2),
        "backgroundColor": int_param(params, "BackgroundColor", 0, lambda v: 0 <= v <= 0xFFFFFF),
    }
