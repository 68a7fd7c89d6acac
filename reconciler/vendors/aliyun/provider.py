"""Alibaba Cloud RTC (API 2018-01-11) MPU mix tasks behind the Provider protocol.

MixTask -> StartMPUTask / GetMPUTaskStatus / UpdateMPULayout / StopMPUTask, signed with signature v1
(`signing.py`), sent as POST form bodies with Format=JSON to the root path of the endpoint.

- TaskIds are deterministic (`rtcr-<name>-<hash(app, name)>-g<generation>`, or `spec.taskId`, with
  `-g<generation>` from the second generation on), so a start whose answer was lost is recognised
  by observing the TaskId: a running task is adopted, an absent one started again. A start is never
  sent twice without a GetMPUTaskStatus in between.
- With no record in state (a lost or new state), `discover` probes the derived TaskIds and adopts
  the running generation instead of starting a second copy.
- Aliyun cannot report a task's layout or output: observations carry the status only, and the
  planner compares the rest with the last applied spec.
- A Layout is a documented preset id or a custom layout of its own (`Layout/<layout>@<provider>`:
  Create/Modify/Describe/DeleteMPULayout, see `provider_layouts`); tasks send the LayoutIds and
  UserPanes with the layout's own pane ids.
- Every code of the document's table is mapped to an error class and a message saying what to do;
  `transient` follows the HTTP status (5xx and Throttling retry, 4xx and 200-with-Code do not).
See docs/vendors/aliyun.md for the full mapping and the assumptions.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, ClassVar

import httpx

from reconciler.errors import (
    UNKNOWN,
    VendorAuthError,
    VendorConflict,
    VendorError,
    VendorNotFound,
    VendorRateLimited,
    VendorUnavailable,
)
from reconciler.providers.base import BaseProvider, Handles, ProviderContext, SaveHandles, stable_suffix
from reconciler.ratelimit import RateLimit
from reconciler.records import Discovery, Observation
from reconciler.vendors.aliyun.descriptor import DESCRIPTOR
from reconciler.vendors.aliyun.layouts import LAYOUT_KIND
from reconciler.vendors.aliyun.provider_layouts import AliyunLayouts
from reconciler.vendors.aliyun.signing import (
    SIGNATURE_METHOD,
    SIGNATURE_VERSION,
    TIMESTAMP_FORMAT,
    signature,
)

API_VERSION = "2018-01-11"
KIND = "MixTask"
KINDS = (KIND, LAYOUT_KIND)
MAX_TASK_ID = 64
MEDIA_ENCODES = {"audio-only": 0, "360p": 1, "540p": 10, "720p": 20, "720p-portrait": 22, "1080p": 30}
STATUS_MEANINGS = {
    0: "waiting for the channel to start", 1: "running", 2: "stopped", 3: "stopped by the user",
    4: "the channel ended", 5: "CDN network problem, the live stream stopped",
    6: "stream URL problem, the live stream stopped",
}
MAX_PROBED_GENERATIONS = 100  # discovery asks for at most this many derived TaskIds per resource
STREAM_URL_REUSE_WAIT = 3.0  # seconds between starts while a StreamURL is in its 10 s reuse window

_BUG = "the reconciler built a request without it; please report this as a bug"
_CONSOLE = "fix it in the Alibaba Cloud RTC console, then apply again"
# code -> what to do; the class follows from the HTTP status (see `vendor_error`)
ADVICE: dict[str, str] = {
    **{code: _BUG for code in (
        "Request.NoTimestamp", "Request.NoSignature", "Request.NoRequestID", "Request.NoBizID", "Request.NoAliUid",
        "Request.NoDescription", "Request.NoAppType", "Request.NoServiceAreas", "Request.NoBillType",
        "Request.NoUserGroups", "Request.NoUserID", "Request.NoSessionID", "Request.NoNonce",
        "Request.NoTerminalIDs", "Request.MismatchBizID", "Request.InvalidAppKey", "Request.InvalidAppCallback",
        "Request.InvalidChannelKey", "Request.IllegalTerminal", "MissingParameter", "UnsupportedOperation",
        "NoSuchVersion", "IncompleteSignature")},
    "Request.NoAppID": "set spec.appId of Provider/{provider}",
    "Request.InvalidAppID": "the AppId does not belong to the account of the AccessKey: check spec.appId and "
                            "the credentials of Provider/{provider}",
    "Request.NoChannelID": "set spec.channel of the MixTask",
    "Request.InvalidChannelID": "spec.channel must be 1-64 characters of A-Z a-z 0-9 _ -",
    **{code: "the vendor saw this SignatureNonce before (a replayed request, which may have taken effect); "
             "apply again, which observes first" for code in ("Request.InvalidNonce", "SignatureNonceUsed")},
    **{code: "check this machine's clock: requests must be within 15 minutes of UTC" for code in (
        "Request.InvalidTimestamp", "Request.IllegalTimestamp", "InvalidTimeStamp.Expired")},
    "InvalidTimeStamp.Format": _BUG,
    **{code: "check the AccessKey id/secret referenced by Provider/{provider}" for code in (
        "Request.IllegalSignature", "Request.IllegalAuth", "Request.IllegalBizID", "Request.IllegalAliUID",
        "Request.IllegalBroadcast", "Request.IllegalUserGroups", "SignatureDoesNotMatch",
        "InvalidAccessKeyId.NotFound", "InvalidAccessKeyId.Inactive", "Forbidden")},
    "Forbidden.RAM": "the RAM user of the AccessKey of Provider/{provider} lacks permission for this RTC action; "
                     "grant it in the RAM console",
    **{code: "the request is valid but the vendor holds conflicting state; " + _CONSOLE for code in (
        "Request.ChannelQueryExpire", "Request.ExistApp", "Request.ExistAppCallback", "Request.ExistChannel")},
    "Service.NoApp": "no such AppId in this Alibaba Cloud account: check spec.appId of Provider/{provider}",
    "Service.NoSignaling": "the RTC signalling service is not available for this app; " + _CONSOLE,
    "Service.NoAppCallback": "the app has no callback configured; " + _CONSOLE,
    "Service.NoChannel": "the channel does not exist at the vendor; check spec.channel",
    **{code: "the vendor failed internally; it is retried" for code in (
        "Service.BuildSignature", "Service.ParseHTTPBody", "Service.AppRDSOperate", "Service.AppCallbackRDSOperate",
        "Service.ChannelRDSOperate", "Service.GenerateChannelKey", "Service.GenerateChannelToken",
        "Service.SignalingSendMessage", "InternalError", "ServiceUnavailable")},
    "Service.Inactive": "the RTC service is not activated for this account; activate it in the console",
    "Service.NoExist": "the RTC service does not exist for this account; activate it in the console",
    "Channel.NoExist": "the channel does not exist at the vendor; check spec.channel",
    "App.Stop": "the app is disabled: re-enable the AppId in the RTC console",
    "App.ChargeOverDue": "the account is overdue: top it up, then apply again",
    "Channel.Exceeds": "the app has reached its channel limit: delete channels no longer used",
    "InvalidParameter": "a MixTask or Layout value is outside what Aliyun accepts; check the message",
    "InvalidTask.IDError": "TaskIds are 1-64 characters of A-Z a-z 0-9 _ -: check spec.taskId",
    "InvalidTask.Stopped": "the task stopped before its layout could change; plan again to start it anew",
    "Task.AlreadyExists": "the TaskId is taken; change spec.taskId",
    "InvalidLayout.NotFound": "the custom layout is gone at Aliyun; plan and apply again to create it",
    "InvalidLayout.InUse": "a running task still uses this layout; stop it or move it to another layout first",
    "StreamURL.InUse": "another task pushes to this output.streamUrl; stop it or choose another URL",
    "StreamURL.RecentlyStopped": "a task pushed to this URL less than 10 s ago; retried after a pause",
}
AUTH_CODES = {"SignatureDoesNotMatch", "InvalidAccessKeyId.NotFound", "InvalidAccessKeyId.Inactive", "Forbidden",
              "Forbidden.RAM", "Request.IllegalTimestamp", "InvalidTimeStamp.Expired"}
CONFLICTS = {"Task.AlreadyExists", "InvalidLayout.InUse", "InvalidTask.Stopped", "StreamURL.InUse",
             "StreamURL.RecentlyStopped"}


def vendor_error(code: str, message: str, status: int, *, provider: str, action: str,
                 request_id: str = "") -> VendorError:
    """The error class and transience of an Aliyun answer, from its code and HTTP status."""
    advice = ADVICE.get(code, "").format(provider=provider)
    text = f"{message.rstrip('.')}; {advice}" if advice else message
    kwargs: dict[str, Any] = {"request_id": request_id, "http_status": status, "action": action}
    if code.startswith("Throttling"):
        return VendorRateLimited("aliyun", code, text, **kwargs)
    if code in ("InvalidTask.NotFound", "InvalidLayout.NotFound"):
        return VendorNotFound("aliyun", code, text, **kwargs)
    if code in CONFLICTS:
        return VendorConflict("aliyun", code, text, transient=code == "StreamURL.RecentlyStopped", **kwargs)
    if status in (401, 403) or code in AUTH_CODES:
        return VendorAuthError("aliyun", code, text, transient=False, **kwargs)
    if status >= 500:
        return VendorUnavailable("aliyun", code, text, **kwargs)
    return VendorError("aliyun", code, text, transient=False, **kwargs)


def start_params(spec: Mapping[str, Any], layout: Mapping[str, str]) -> dict[str, str]:
    """StartMPUTask's own parameters for a MixTask spec (as `MixTaskSpec.to_desired` makes it), with the
    layout parameters `AliyunLayouts.task_params` resolved."""
    output = spec["output"]
    params = {"ChannelId": str(spec["channel"]), **layout,
              "MediaEncode": str(MEDIA_ENCODES[output.get("encoding", "720p")]), "StreamURL": str(output["streamUrl"])}
    if output.get("taskProfile"):
        params["TaskProfile"] = str(output["taskProfile"])
    return params


class AliyunProvider(BaseProvider):
    vendor: ClassVar[str] = "aliyun"
    RATE_LIMITS: ClassVar[dict[str, RateLimit]] = DESCRIPTOR.documented_rate_limits()  # by action
    MAIN_HANDLES: ClassVar[dict[str, str]] = {KIND: "TaskId"}  # `reconciler import MixTask/NAME TASK_ID`

    def __init__(self, ctx: ProviderContext) -> None:
        super().__init__(ctx)
        self.layouts = AliyunLayouts(ctx.spec.app_id, self._call)

    def new_handles(self, kind: str, name: str, spec: Mapping[str, Any], generation: int) -> dict[str, str]:
        self._check_kind(kind, "start")
        if kind == LAYOUT_KIND:
            return {}  # the LayoutId is Aliyun's answer; the Name derived from the manifest finds it again
        explicit = spec.get("taskId")
        if explicit:
            if generation <= 1:
                return {"TaskId": str(explicit)}
            tail = f"-g{generation}"  # a restart after drift must not reuse the stopped task's id
            return {"TaskId": str(explicit)[: MAX_TASK_ID - len(tail)] + tail}
        tail = f"-{stable_suffix(self.ctx.app_id, name)}-g{generation}"
        return {"TaskId": f"rtcr-{name}"[: MAX_TASK_ID - len(tail)] + tail}

    async def observe(self, kind: str, handles: Handles, spec: Mapping[str, Any] | None) -> Observation:
        self._check_kind(kind, "observe")
        if kind == LAYOUT_KIND:
            return await self.with_retry(lambda: self.layouts.observe(handles, spec), "DescribeMPULayoutInfoList")
        task_id = handles.get("TaskId")
        if not task_id:
            return Observation("absent", "no TaskId recorded")
        return await self.with_retry(lambda: self._status(task_id), f"GetMPUTaskStatus {task_id}")

    async def discover(self, kind: str, name: str, spec: Mapping[str, Any]) -> Discovery | None:
        """Probe the derived TaskIds g1, g2, ... until Aliyun knows one no more: the first running one
        is the live job (a new generation is started only after the previous one stopped); if none
        runs, the newest stopped one tells which generation comes next. Aliyun keeps answering for
        stopped tasks (status 2-6), so the probe stops at the first TaskId it has never seen."""
        self._check_kind(kind, "observe")
        if kind != KIND:
            return None  # a custom layout is found by its derived Name when it is created
        found: Discovery | None = None
        for generation in range(1, MAX_PROBED_GENERATIONS + 1):
            task_id = self.new_handles(kind, name, spec, generation)["TaskId"]
            seen = await self.with_retry(functools.partial(self._status, task_id), f"GetMPUTaskStatus {task_id}")
            if seen.status == "absent":
                break
            found = Discovery(generation, seen, unreadable=("layout",))
            if seen.running:
                break
        return found

    async def start(self, kind: str, handles: Handles, spec: Mapping[str, Any], save: SaveHandles) -> dict[str, str]:
        self._check_kind(kind, "start")
        if kind == LAYOUT_KIND:
            return await self.with_retry(lambda: self.layouts.create(spec), "CreateMPULayout")
        task_id = handles["TaskId"]
        save(dict(handles))  # the TaskId is known before the task exists
        layout = await self.layouts.task_params(spec)
        params = {"AppId": self.ctx.app_id, "TaskId": task_id, **start_params(spec, layout)}
        sent = False

        async def attempt() -> None:
            nonlocal sent
            if sent and await self._adopt(task_id):
                return  # an earlier start went through although its answer did not arrive
            sent = True
            try:
                await self._call("StartMPUTask", params)
            except VendorConflict as exc:
                if exc.code != "Task.AlreadyExists":
                    raise
                if not await self._adopt(task_id):
                    raise VendorConflict(self.vendor, exc.code, f"{exc.message}, yet the task is not found; "
                                         "starting again", transient=True, action="StartMPUTask") from exc

        await self.with_retry(attempt, f"StartMPUTask {task_id}", min_delay_for=_reuse_wait)
        return dict(handles)

    async def update(self, kind: str, handles: Handles, spec: Mapping[str, Any],
                     groups: tuple[str, ...]) -> dict[str, str]:
        self._check_kind(kind, "update")
        other = sorted(set(groups) - {"layout", "layouts"})
        if other:
            raise self.unsupported(f"in-place update of {', '.join(other)}", kind)
        if kind == LAYOUT_KIND:
            await self.with_retry(lambda: self.layouts.modify(handles, spec), "ModifyMPULayout")
            return dict(handles)
        task_id = handles["TaskId"]
        params = {"AppId": self.ctx.app_id, "TaskId": task_id, **await self.layouts.task_params(spec)}
        await self.with_retry(lambda: self._call("UpdateMPULayout", params), f"UpdateMPULayout {task_id}")
        return dict(handles)

    async def stop(self, kind: str, handles: Handles, spec: Mapping[str, Any] | None) -> None:
        self._check_kind(kind, "stop")
        if kind == LAYOUT_KIND:
            try:
                await self.with_retry(lambda: self.layouts.delete(handles), "DeleteMPULayout")
            except VendorNotFound:
                return  # already gone
            return
        task_id = handles.get("TaskId")
        if not task_id:
            return
        params = {"AppId": self.ctx.app_id, "TaskId": task_id}
        try:
            await self.with_retry(lambda: self._call("StopMPUTask", params), f"StopMPUTask {task_id}")
        except VendorNotFound:
            return  # nothing to stop
        except VendorConflict as exc:
            if exc.code != "InvalidTask.Stopped":
                raise

    # -- calls -------------------------------------------------------------------------------------
    async def _status(self, task_id: str) -> Observation:
        """One GetMPUTaskStatus, as an Observation (no retry: callers decide)."""
        handles = {"TaskId": task_id}
        try:
            body = await self._call("GetMPUTaskStatus", {"AppId": self.ctx.app_id, "TaskId": task_id})
        except VendorNotFound:
            return Observation("absent", f"no task {task_id} at Aliyun", handles=handles)
        status = body.get("Status")
        if not isinstance(status, int) or status not in STATUS_MEANINGS:
            return Observation("unknown", f"unexpected Status {status!r}", handles=handles)
        meaning = STATUS_MEANINGS[status]
        detail = {0: meaning, 1: ""}.get(status, f"status {status}: {meaning}")
        return Observation("active" if status in (0, 1) else "inactive", detail, handles=handles)

    async def _adopt(self, task_id: str) -> bool:
        """After an uncertain start: True if the task runs (ours: the id is deterministic), False if absent."""
        seen = await self._status(task_id)
        if seen.status == "inactive":
            raise VendorConflict(
                self.vendor, "Task.AlreadyExists",
                f"TaskId {task_id} belongs to a task that already stopped ({seen.detail}); Aliyun never reuses "
                "a TaskId: plan and apply again to start a new generation, or change spec.taskId",
                transient=False, action="StartMPUTask")
        return seen.status == "active"

    async def _call(self, action: str, params: Mapping[str, str]) -> dict[str, Any]:
        key_id = self.secret("accessKeyId").reveal()
        await self.throttle(action, stable_suffix(key_id))
        signed: dict[str, str] = {
            **params, "Action": action, "Version": API_VERSION, "Format": "JSON", "AccessKeyId": key_id,
            "SignatureMethod": SIGNATURE_METHOD, "SignatureVersion": SIGNATURE_VERSION,
            "SignatureNonce": uuid.uuid4().hex, "Timestamp": datetime.now(timezone.utc).strftime(TIMESTAMP_FORMAT),
        }
        signed["Signature"] = signature("POST", signed, self.secret("accessKeySecret").reveal())
        url = f"{self.ctx.endpoint.rstrip('/')}/"
        response = await self.send(action, lambda: self.ctx.client.post(url, data=signed))
        return self._parse(action, response)

    def _parse(self, action: str, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            code = f"HTTP{response.status_code}"
            text = f"unexpected answer (HTTP {response.status_code}, not a JSON object)"
            if response.status_code >= 500:  # not Aliyun's own answer (a gateway's): it may have acted
                raise VendorUnavailable(self.vendor, code, text, http_status=response.status_code, action=action,
                                        outcome=UNKNOWN)
            raise VendorError(self.vendor, code, text, http_status=response.status_code, transient=False,
                              action=action)
        if "Code" in body or not 200 <= response.status_code < 300:  # 200 with a Code is an error too
            raise vendor_error(str(body.get("Code") or f"HTTP{response.status_code}"),
                               str(body.get("Message") or "no message"), response.status_code,
                               provider=self.ctx.name, action=action, request_id=str(body.get("RequestId", "")))
        return body

    def _check_kind(self, kind: str, operation: str) -> None:
        if kind not in KINDS:
            raise self.unsupported(operation, kind)


def _reuse_wait(exc: VendorError) -> float:
    """The StreamURL reuse window is 10 s: wait a few seconds between tries, not the policy's half second."""
    return STREAM_URL_REUSE_WAIT if exc.code == "StreamURL.RecentlyStopped" else 0.0
