"""ZEGO provider: stream bans (StreamRule) and stream mixes (MixTask) over ZEGO's server API.

Calls (all at the endpoint root, `?Action=...` plus the signed public parameters):
- StreamRule: start = ForbidRTCStream, stop/resume = ResumeRTCStream, observe = DescribeRTCStreamState
  (a publishing stream proves no ban is in force; otherwise ZEGO cannot say, and the planner trusts
  the state store: no documented call lists bans);
- MixTask: start and update = StartMix (starts or updates by TaskId, so a retry never duplicates a
  mix), stop = StopMix, observe = GetMixTaskInfo (110209001 = gone = drift). ZEGO mixes cannot pause.
  Without a record in state, `discover` asks for the first derived TaskIds and adopts a running one.
Every ban and mix call carries a `Sequence` from `SequenceGate` (see sequence.py). Test
environment (`test: true`): IsTest=true, stream ids prefixed `zegotest-<AppId>-`, bans paced at 5/s.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from reconciler.errors import VendorError, VendorNotFound, VendorRateLimited
from reconciler.providers.base import BaseProvider, Handles, ProviderContext, SaveHandles, stable_suffix
from reconciler.ratelimit import RateLimit
from reconciler.records import Discovery, Observation
from reconciler.vendors.shared.pixels import VIDEO_PRESETS, pixel_rect
from reconciler.vendors.zego.descriptor import DESCRIPTOR
from reconciler.vendors.zego.errors import error_for
from reconciler.vendors.zego.rules import vendor_stream_id, zego_test_prefix
from reconciler.vendors.zego.sequence import SequenceGate
from reconciler.vendors.zego.signing import public_params

USER_ID = "rtc-reconciler"  # the owner of every mix this tool starts (ZEGO wants one UserId per task)
STREAM_GONE = (41004, 41006)
MIX_PROBE_GENERATIONS = 8  # how many derived mix TaskIds discovery asks for (an assumption; see docs)


class ZegoProvider(BaseProvider):
    vendor: ClassVar[str] = "zego"
    RATE_LIMITS: ClassVar[dict[str, RateLimit]] = DESCRIPTOR.documented_rate_limits()
    # `reconciler import MixTask/NAME TASK_ID` adopts a running mix; bans cannot be read back, so not them
    MAIN_HANDLES: ClassVar[dict[str, str]] = {"MixTask": "taskId"}

    def __init__(self, ctx: ProviderContext) -> None:
        super().__init__(ctx)
        self.gate = SequenceGate(ctx.sequences)

    # -- ids -------------------------------------------------------------------------------------
    def stream(self, stream_id: str) -> str:
        return vendor_stream_id(stream_id, self.ctx.app_id, self.ctx.spec.test)

    def new_handles(self, kind: str, name: str, spec: Mapping[str, Any], generation: int) -> dict[str, str]:
        if kind == "StreamRule":
            return {"streamId": self.stream(str(spec["streamId"]))}
        task_id = spec.get("taskId") or f"{name}-{stable_suffix(self.ctx.app_id, name)}-{generation}"
        return {"taskId": str(task_id), "userId": USER_ID}

    def _scope(self, what: str, ident: str) -> str:
        env = "test" if self.ctx.spec.test else "prod"
        return f"zego:{self.ctx.app_id}:{env}:{what}:{ident}"

    # -- the protocol ----------------------------------------------------------------------------
    async def observe(self, kind: str, handles: Handles, spec: Mapping[str, Any] | None) -> Observation:
        if kind == "StreamRule":
            return await self._observe_ban(handles)
        if "taskId" not in handles:
            return Observation("absent", "no TaskId recorded")
        try:
            data = await self.with_retry(
                lambda: self._call("GetMixTaskInfo", "mix", params={"TaskId": handles["taskId"]}),
                f"observe {handles['taskId']}", self._backoff)
        except VendorNotFound as exc:
            return Observation("absent", f"GetMixTaskInfo: {exc.code}: the mix task does not exist", handles=handles)
        data = data if isinstance(data, dict) else {}
        fields = self._drifted_fields(spec, data) if spec else {}
        owner = {"userId": str(data["UserId"])} if data.get("UserId") else {}  # an adopted mix keeps its owner
        return Observation("active", f"running (Sequence {data.get('Sequence')})", fields, {**handles, **owner})

    async def discover(self, kind: str, name: str, spec: Mapping[str, Any]) -> Discovery | None:
        """A mix TaskId derived from the manifest (no spec.taskId pins it) may run under a later
        generation: ZEGO forgets stopped mixes, so an unknown TaskId does not end the search, and the
        first MIX_PROBE_GENERATIONS generations are asked for; the newest running one is adopted.
        Bans need no discovery: ForbidRTCStream on a banned stream changes nothing."""
        if kind != "MixTask":
            return None
        newest: Discovery | None = None
        for generation in range(1, MIX_PROBE_GENERATIONS + 1):
            seen = await self.observe(kind, self.new_handles(kind, name, spec, generation), spec)
            if seen.running:
                newest = Discovery(generation, seen)
            if spec.get("taskId"):
                break  # a pinned TaskId is the same for every generation
        return newest

    async def start(self, kind: str, handles: Handles, spec: Mapping[str, Any], save: SaveHandles) -> dict[str, str]:
        if kind == "StreamRule":
            await self._ban("ForbidRTCStream", handles["streamId"])
        else:
            await self._start_mix(handles, spec)
        return dict(handles)

    async def update(self, kind: str, handles: Handles, spec: Mapping[str, Any],
                     groups: tuple[str, ...]) -> dict[str, str]:
        if kind != "MixTask":
            raise self.unsupported("update", kind)
        await self._start_mix(handles, spec)  # StartMix on the same TaskId updates the running mix
        return dict(handles)

    async def stop(self, kind: str, handles: Handles, spec: Mapping[str, Any] | None) -> None:
        if kind == "StreamRule":
            await self._ban("ResumeRTCStream", handles["streamId"])
            return
        task_id = handles["taskId"]

        async def stop_mix() -> Any:
            async with self.gate.turn(self._scope("mix", task_id)):
                await self.throttle("mix", self.ctx.app_id)
                body = {"TaskId": task_id, "Sequence": self.gate.draw(self._scope("mix", task_id)),
                        "UserId": handles.get("userId", USER_ID)}
                return await self._call("StopMix", None, body=body)

        try:
            await self.with_retry(stop_mix, f"stop mix {task_id}", self._backoff)
        except VendorNotFound:
            self.ctx.events(f"mix {task_id} was already gone at ZEGO; nothing to stop")

    async def resume(self, kind: str, handles: Handles, spec: Mapping[str, Any] | None) -> None:
        if kind != "StreamRule":
            raise self.unsupported("resume", kind)
        await self._ban("ResumeRTCStream", handles["streamId"])

    # -- stream bans -----------------------------------------------------------------------------
    async def _ban(self, action: str, stream_id: str) -> None:
        scope = self._scope("stream", stream_id)
        call_class = "ban-test" if self.ctx.spec.test else "ban"

        async def once() -> Any:
            async with self.gate.turn(scope):
                await self.throttle(call_class, self.ctx.app_id)
                params = {"StreamId": stream_id, "Sequence": str(self.gate.draw(scope))}
                return await self._call(action, None, params=params)

        await self.with_retry(once, f"{action} {stream_id}", self._backoff)

    async def _observe_ban(self, handles: Handles) -> Observation:
        stream_id = handles.get("streamId")
        if not stream_id:
            return Observation("absent", "no stream recorded")
        try:
            await self.with_retry(lambda: self._call("DescribeRTCStreamState", "describe",
                                                     params={"StreamId": stream_id}),
                                  f"observe stream {stream_id}", self._backoff)
        except VendorError as exc:
            if exc.code.isdigit() and int(exc.code) in STREAM_GONE:
                return Observation("unknown", f"stream not publishing ({exc.code}); ZEGO has no call that lists "
                                              "bans, so the last applied state stands", handles=handles)
            raise
        return Observation("inactive", "the stream is publishing, so no ban is in force", handles=handles)

    # -- stream mixing ---------------------------------------------------------------------------
    async def _start_mix(self, handles: Handles, spec: Mapping[str, Any]) -> None:
        task_id = handles["taskId"]
        scope = self._scope("mix", task_id)
        inputs, outputs = self.mix_layout(spec)

        async def once() -> Any:
            async with self.gate.turn(scope):
                await self.throttle("mix", self.ctx.app_id)
                body = {"TaskId": task_id, "Sequence": self.gate.draw(scope),
                        "UserId": handles.get("userId", USER_ID), "MixInput": inputs, "MixOutput": outputs}
                return await self._call("StartMix", None, body=body)

        await self.with_retry(once, f"StartMix {task_id}", self._backoff)

    def mix_layout(self, spec: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """MixInput (RectInfo in pixels of the canvas, list order = z-order) and MixOutput of a spec."""
        layout, output = spec["layout"], spec["output"]
        width, height = int(layout["canvas"]["width"]), int(layout["canvas"]["height"])
        inputs = []
        for pane in layout["panes"]:
            rect = pixel_rect(pane, width, height)
            inputs.append({"StreamId": self.stream(str(pane["user"])),
                           "RectInfo": {"Top": rect.top, "Left": rect.left, "Bottom": rect.bottom, "Right": rect.right}})
        preset = VIDEO_PRESETS[output.get("encoding", "720p")]
        target = self.stream(output["streamId"]) if output.get("streamId") else str(output.get("streamUrl"))
        outputs = [{"StreamId": target, "VideoBitrate": preset.kbps * 1000, "Fps": preset.fps,
                    "Width": preset.width, "Height": preset.height}]
        return inputs, outputs

    def _drifted_fields(self, spec: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
        """What ZEGO reports, as spec fields, for the parts that differ from `spec` (nothing when equal)."""
        inputs, outputs = self.mix_layout(spec)
        fields: dict[str, Any] = {}
        reported_in = data.get("MixInput") or []
        if _plain(reported_in) != _plain(inputs):
            layout = spec["layout"]
            width, height = int(layout["canvas"]["width"]), int(layout["canvas"]["height"])
            prefix = zego_test_prefix(self.ctx.app_id)
            panes = []
            for index, item in enumerate(reported_in):
                rect = item.get("RectInfo") or {}
                base = dict(layout["panes"][index]) if index < len(layout["panes"]) else {}
                user = str(item.get("StreamId", ""))
                panes.append({**base, "user": user.removeprefix(prefix) if self.ctx.spec.test else user,
                              "x": round(rect.get("Left", 0) / width, 6), "y": round(rect.get("Top", 0) / height, 6),
                              "width": round((rect.get("Right", 0) - rect.get("Left", 0)) / width, 6),
                              "height": round((rect.get("Bottom", 0) - rect.get("Top", 0)) / height, 6)})
            fields["layout"] = {**layout, "panes": panes}
        reported_out = data.get("MixOutput") or []
        if _plain(reported_out) != _plain(outputs) and reported_out:
            first = reported_out[0]
            size = (first.get("Width"), first.get("Height"), first.get("Fps"), (first.get("VideoBitrate") or 0) // 1000)
            encoding = next((name for name, p in VIDEO_PRESETS.items() if tuple(p) == size),
                            f"{first.get('Width')}x{first.get('Height')}")
            target = str(first.get("StreamId", ""))
            key = "streamUrl" if "://" in target else "streamId"
            if key == "streamId" and self.ctx.spec.test:
                target = target.removeprefix(zego_test_prefix(self.ctx.app_id))
            fields["output"] = {key: target, "encoding": encoding}
        return fields

    # -- HTTP ------------------------------------------------------------------------------------
    async def _call(self, action: str, call_class: str | None, *, params: Mapping[str, str] | None = None,
                    body: Mapping[str, Any] | None = None) -> Any:
        """One signed request; returns `Data` or raises the mapped VendorError."""
        if call_class is not None:
            await self.throttle(call_class, self.ctx.app_id)
        secret = self.secret("serverSecret").reveal()
        query = {"Action": action, **public_params(self.ctx.app_id, secret, timestamp=int(time.time()),
                                                   is_test=self.ctx.spec.test), **(params or {})}
        url = self.ctx.endpoint + "/"
        client = self.ctx.client
        if body is None:
            response = await self.send(action, lambda: client.get(url, params=query))
        else:
            response = await self.send(action, lambda: client.post(url, params=query, json=dict(body)))
        return self._data(action, response)

    def _data(self, action: str, response: httpx.Response) -> Any:
        payload = self.json_envelope(action, response, "Code", "ZEGO")
        code = int(payload.get("Code") or 0)
        if code != 0:
            raise error_for(code, str(payload.get("Message") or ""), action=action,
                            request_id=str(payload.get("RequestId") or ""), http_status=response.status_code)
        return payload.get("Data")

    @staticmethod
    def _backoff(exc: VendorError) -> float:
        return 1.0 if isinstance(exc, VendorRateLimited) else 0.0  # ZEGO's limits are per second


def _plain(items: Any) -> list[Any]:
    return [dict(i) if isinstance(i, Mapping) else i for i in (items or [])]
