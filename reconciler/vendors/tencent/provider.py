"""Tencent provider: the MCU mix of a live room, over the live engine REST API.

A Tencent MCU mix is keyed by its room (RoomId = spec.channel) and has three documented calls, so
every action maps onto them:
- start and update = set_mix_stream (LayoutMode 1000 with LayoutList in pixels when every pane names
  a user, else LayoutMode 0, the nine-grid; VideoEncode from output.encoding). Setting a layout is
  idempotent, so a retry never duplicates anything;
- resume = resume_mcu_task, after a pause recorded in state or when spec.resumeToken changes; if the
  room has no mix task any more (100424), the layout is set again, which starts the mix anew;
- stop: Tencent has no call that stops an MCU mix (it lives as long as its room). Stop therefore
  hands the room back to Tencent's default, the nine-grid (set_mix_stream LayoutMode 0), and the
  reconciler stops enforcing a layout. A dissolved room (100004) counts as stopped;
- pause: no documented call (validation refuses `state: paused`);
- observe: no documented call reads a mix back, so observe says "unknown" and the planner compares
  with the last applied state; drift made at Tencent cannot be seen.
Calls are signed with a TLSSigAPIv2 UserSig of the App admin, regenerated before it ages.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from reconciler.errors import VendorError, VendorNotFound, VendorRateLimited
from reconciler.providers.base import BaseProvider, Handles, ProviderContext, SaveHandles
from reconciler.ratelimit import RateLimit
from reconciler.records import Observation
from reconciler.secrets import REDACTOR, Secret
from reconciler.vendors.shared.pixels import VIDEO_PRESETS, pixel_rect
from reconciler.vendors.tencent.descriptor import DESCRIPTOR
from reconciler.vendors.tencent.errors import error_for
from reconciler.vendors.tencent.usersig import generate

SERVICE = "live_engine_http_srv"
# the server gives up after 3 s; waiting longer lets its own timeout answer arrive (document 003)
REQUEST_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USERSIG_LIFETIME = 86400
UNOBSERVABLE = ("Tencent has no call that reads an MCU mix back; compared with the last applied state")


def mix_request(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The set_mix_stream body of a MixTask spec."""
    room_id = str(spec["channel"])
    preset = VIDEO_PRESETS[spec["output"].get("encoding", "720p")]
    body: dict[str, Any] = {"RoomId": room_id, "LayoutMode": 0,
                            "VideoEncode": {"Width": preset.width, "Height": preset.height}}
    layout = spec["layout"]
    panes = layout["panes"]
    if panes and all(p.get("user") for p in panes):
        width, height = int(layout["canvas"]["width"]), int(layout["canvas"]["height"])
        items = []
        for z_order, pane in enumerate(panes):  # list order is bottom to top
            rect = pixel_rect(pane, width, height)
            items.append({"LocationX": rect.left, "LocationY": rect.top, "ImageWidth": rect.width,
                          "ImageHeight": rect.height, "RoomId": room_id, "Member_Account": str(pane["user"]),
                          "StreamType": 1 if pane.get("source") == "screen" else 0, "ZOrder": z_order})
        body["LayoutMode"] = 1000
        body["LayoutInfo"] = {"LayoutList": items}
    return body


class TencentProvider(BaseProvider):
    vendor: ClassVar[str] = "tencent"
    RATE_LIMITS: ClassVar[dict[str, RateLimit]] = DESCRIPTOR.documented_rate_limits()

    def __init__(self, ctx: ProviderContext) -> None:
        super().__init__(ctx)
        self._usersig: tuple[str, int] | None = None  # (sig, made at)

    def new_handles(self, kind: str, name: str, spec: Mapping[str, Any], generation: int) -> dict[str, str]:
        return {"roomId": str(spec["channel"])}

    async def observe(self, kind: str, handles: Handles, spec: Mapping[str, Any] | None) -> Observation:
        return Observation("unknown", UNOBSERVABLE, handles=handles)

    async def start(self, kind: str, handles: Handles, spec: Mapping[str, Any], save: SaveHandles) -> dict[str, str]:
        await self._set_mix_stream(mix_request(spec))
        return dict(handles)

    async def update(self, kind: str, handles: Handles, spec: Mapping[str, Any],
                     groups: tuple[str, ...]) -> dict[str, str]:
        await self._set_mix_stream(mix_request(spec))
        return dict(handles)

    async def stop(self, kind: str, handles: Handles, spec: Mapping[str, Any] | None) -> None:
        try:
            await self._set_mix_stream({"RoomId": handles["roomId"], "LayoutMode": 0})
        except VendorNotFound as exc:
            if exc.code != "100004":
                raise
            self.ctx.events(f"room {handles['roomId']} no longer exists at Tencent, so nothing mixes it")

    async def resume(self, kind: str, handles: Handles, spec: Mapping[str, Any] | None) -> None:
        room_id = handles["roomId"]
        try:
            await self.with_retry(lambda: self._call("resume_mcu_task", {"RoomId": room_id}),
                                  f"resume_mcu_task {room_id}", self._backoff)
        except VendorNotFound as exc:
            if exc.code != "100424" or spec is None:
                raise
            self.ctx.events(f"room {room_id} had no mix task to resume; setting its layout starts it again")
            await self._set_mix_stream(mix_request(spec))

    async def _set_mix_stream(self, body: Mapping[str, Any]) -> None:
        await self.with_retry(lambda: self._call("set_mix_stream", body),
                              f"set_mix_stream {body['RoomId']}", self._backoff)

    # -- HTTP ------------------------------------------------------------------------------------
    def usersig(self) -> str:
        now = int(time.time())
        if self._usersig is None or now - self._usersig[1] > USERSIG_LIFETIME // 2:
            admin = self.ctx.spec.admin or ""
            sig = generate(int(self.ctx.app_id), self.secret("key").reveal(), admin, now=now, expire=USERSIG_LIFETIME)
            REDACTOR.add([Secret(sig, "usersig")])  # a bearer credential: never printed
            self._usersig = (sig, now)
        return self._usersig[0]

    async def _call(self, command: str, body: Mapping[str, Any]) -> dict[str, Any]:
        await self.throttle("mix", self.ctx.app_id)
        query = {"sdkappid": self.ctx.app_id, "identifier": self.ctx.spec.admin or "", "usersig": self.usersig(),
                 "random": str(secrets.randbelow(2**32)), "contenttype": "json"}
        url = f"{self.ctx.endpoint}/v4/{SERVICE}/{command}"
        client = self.ctx.client
        response = await self.send(command, lambda: client.post(url, params=query, json=dict(body) or {},
                                                                timeout=REQUEST_TIMEOUT))
        payload = self.json_envelope(command, response, "ErrorCode", "Tencent")
        code = int(payload.get("ErrorCode") or 0)
        if code != 0 or payload.get("ActionStatus") != "OK":
            raise error_for(code, str(payload.get("ErrorInfo") or ""), action=command,
                            request_id=str(payload.get("RequestId") or ""))
        return payload

    @staticmethod
    def _backoff(exc: VendorError) -> float:
        return 1.0 if isinstance(exc, VendorRateLimited) else 0.0
