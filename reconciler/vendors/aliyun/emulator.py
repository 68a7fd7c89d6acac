"""Alibaba Cloud RTC (API 2018-01-11) emulator: the bypass-live MPU mix tasks, written from the vendor
document (chapters 2 "调用方式", 8 "旁路直播", 9 error codes).

RPC API at the root path: GET or POST, parameters in the query and/or a form body (signed together),
`Format=JSON|XML` (any case; default XML), errors as {RequestId, HostId, Code, Message}. Every request is
authenticated with signature v1 (recomputed with the HTTP method actually used), a +/-15 min
Timestamp window and SignatureNonce replay protection, then rate-limited per AccessKeyId.

Actions: StartMPUTask, GetMPUTaskStatus (Status 0-6), UpdateMPULayout, UpdateMPUTask (same layout
fields, plus MediaEncode), StopMPUTask, and the custom layouts of `emulator_layouts` (CreateMPULayout,
ModifyMPULayout, DescribeMPULayoutInfoList, DeleteMPULayout); `emulator_tasks` holds the task record
and parses the task actions' parameters, `emulator_errors` the error table. A task's snapshot shows its `mix`: the
geometry of each of its LayoutIds with the users placed in the panes, read when asked (a modified
layout shows at once).

Assumptions where the document is silent or contradicts itself (also in docs/vendors/aliyun.md):
- Checks, in order: Timestamp/Signature/SignatureNonce present (400 Request.No*); AccessKeyId,
  Version=2018-01-11 (MissingParameter / NoSuchVersion); SignatureMethod HMAC-SHA1 in any case (the
  document writes "Hmac-SHA1") and SignatureVersion 1.0 (IncompleteSignature); Timestamp format (400
  Request.InvalidTimestamp) and window (401 Request.IllegalTimestamp); known AccessKeyId (401
  Request.IllegalAuth); signature (401 Request.IllegalSignature); nonce unseen in the window (400
  Request.InvalidNonce); Action (400 UnsupportedOperation); rate limit (400 Throttling.User "Request
  was denied due to user flow control."); AppId (400 Request.NoAppID; 404 Service.NoApp when no account has it; 400
  Request.InvalidAppID when it belongs to another AccessKey's account).
- Missing or malformed action parameters answer Alibaba Cloud's common MissingParameter /
  InvalidParameter (400). `N` of LayoutIds.N and UserPanes.N.* must be 1..15 (the table says so;
  the document's example writes UserPanes.0). MediaEncode must be one of 0,1,10,20,22,30 (the
  example's value 2 is not in the enum table). TaskProfile must be one of the eight listed values.
- TaskIds are unique service-wide for as long as the emulator holds the task (running or stopped):
  a second StartMPUTask answers 400 `Task.AlreadyExists` "Task already exists" (the Live API's
  wording). A StreamURL used by a task in status 0/1 answers 400 `StreamURL.InUse`; within 10 s
  of that URL's last stop, 400 `StreamURL.RecentlyStopped`.
- StopMPUTask on a stopped task succeeds and changes nothing; UpdateMPULayout/UpdateMPUTask on a
  stopped task answer 400 `InvalidTask.Stopped`. An unknown TaskId (or one of another app) answers
  404 InvalidTask.NotFound. Omitted optional layout fields of an update take their documented
  defaults (CropMode 2, BackgroundColor 0); UpdateMPUTask keeps MediaEncode when omitted.
- New tasks start in Status 1 (running); POST /_emulator/new-task-status {"status": 0} makes them
  start in 0 (waiting for the channel).
- Limits per AccessKeyId (sources in docs/vendors/aliyun.md): GetMPUTaskStatus 4000/minute, StartMPUTask
  500/s; UpdateMPULayout, UpdateMPUTask and StopMPUTask 20/s each (an assumption).
- The business codes the document answers with HTTP 200 (Service.Inactive, Service.NoExist, App.Stop,
  App.ChargeOverDue, Channel.NoExist, Channel.Exceeds) and the task statuses 0-6 come from account,
  channel and StreamURL settings (vendors/aliyun/emulator_business.py), not from injected faults.

Control endpoints (besides the shared ones in emulator/base.py):
    POST /_emulator/drift  {"taskId": ID, "status": 2..6}   stop the task with that status
                           {"taskId": ID, "status": 0|1}    move a live task between waiting/running
                           {"taskId": ID, "layout": {"LayoutIds": [1, 2], "UserPanes": [{"PaneId": 0,
                             "UserId": "u", "SourceType": "camera"}], "CropMode": 1}}  change its layout
                           {"taskId": ID, "delete": true}   forget the task (as if it never existed)
                           {"layoutId": ID, "panes": [{"PaneId": 0, "X": 0, ...}]}  edit a layout (console)
                           {"layoutId": ID, "delete": true}   delete a layout (console)
    GET  /_emulator/layouts                                  every custom layout, by LayoutId
    POST /_emulator/new-task-status {"status": 0|1}         the status new tasks start in
    POST /_emulator/account, /_emulator/channels, /_emulator/stream-urls   business settings (see
                           vendors/aliyun/emulator_business.py); GET /_emulator/business shows them
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from xml.sax.saxutils import escape

from reconciler.emulator.base import EmulatorRequest, EmulatorResponse, VendorEmulator
from reconciler.emulator.nonces import NonceWindow
from reconciler.vendors.aliyun.emulator_business import AliyunBusiness, SettingError
from reconciler.vendors.aliyun.emulator_errors import ERRORS, ApiError
from reconciler.vendors.aliyun.emulator_layouts import ACTIONS as LAYOUT_ACTIONS
from reconciler.vendors.aliyun.emulator_layouts import LayoutBook
from reconciler.vendors.aliyun.emulator_tasks import (
    CHANNEL_ID,
    LIVE,
    MEDIA_ENCODES,
    TASK_ID,
    TASK_PROFILES,
    MpuTask,
    int_param,
    parse_layout,
)
from reconciler.vendors.aliyun.signing import (
    SIGNATURE_VERSION,
    TIMESTAMP_FORMAT,
    signature,
    signatures_match,
)

HOST_ID = "rtc.aliyuncs.com"
API_VERSION = "2018-01-11"
TIMESTAMP_WINDOW = 15 * 60.0
STREAM_URL_REUSE_SECONDS = 10.0
COMMON_PARAMS = frozenset({"Action", "Format", "Version", "AccessKeyId", "Signature", "SignatureMethod",
                           "SignatureVersion", "SignatureNonce", "Timestamp", "SecurityToken", "RegionId",
                           "SignatureType"})


def _utc_seconds(stamp: str) -> float:
    try:
        return float(calendar.timegm(time.strptime(stamp, TIMESTAMP_FORMAT)))
    except ValueError:
        raise ApiError("Request.InvalidTimestamp") from None


class AliyunEmulator(VendorEmulator):
    vendor: ClassVar[str] = "aliyun"
    DEMO_ACCOUNTS: ClassVar[list[dict[str, Any]]] = [
        {"appId": "demo-aliyun-app", "accessKeyId": "LTAI5tDemoAccessKey00001",
         "accessKeySecret": "demoSecretForTheAliyunEmulator"},
        {"appId": "demo-aliyun-other", "accessKeyId": "LTAI5tDemoAccessKey00002",
         "accessKeySecret": "otherSecretForAliyunEmulator02"},
    ]
    DEMO_ENV: ClassVar[dict[str, str]] = {
        "ALIYUN_ACCESS_KEY_ID": "LTAI5tDemoAccessKey00001",
        "ALIYUN_ACCESS_KEY_SECRET": "demoSecretForTheAliyunEmulator",
    }
    DEFAULT_LIMITS: ClassVar[dict[str, tuple[float, float]]] = {  # (calls, window seconds) per AccessKeyId
        "GetMPUTaskStatus": (4000, 60.0),
        "StartMPUTask": (500, 1.0),
        **{action: (20, 1.0) for action in ("UpdateMPULayout", "UpdateMPUTask", "StopMPUTask")},
        **{action: (10, 1.0) for action in LAYOUT_ACTIONS},  # the layout pages: 10 calls/s per user
    }

    def __init__(self, accounts: list[dict[str, Any]] | None = None, clock: Any = None) -> None:
        super().__init__(accounts, clock)
        self.secrets: dict[str, str] = {}
        self.app_keys: dict[str, set[str]] = {}  # AppId -> the AccessKeyIds of its account
        for account in self.accounts:
            key_id, app_id = str(account["accessKeyId"]), str(account["appId"])
            self.secrets[key_id] = str(account["accessKeySecret"])
            self.app_keys.setdefault(app_id, set()).add(key_id)
        self.tasks: dict[str, MpuTask] = {}
        self.released: dict[str, float] = {}  # StreamURL -> when its last task stopped
        self.nonces = NonceWindow(TIMESTAMP_WINDOW)
        self.new_task_status = 1
        self.business = AliyunBusiness()
        self.layouts = LayoutBook(ApiError)
        self.handlers: dict[str, Callable[[dict[str, str], str], dict[str, Any]]] = {
            "StartMPUTask": self._start, "GetMPUTaskStatus": self._status, "UpdateMPULayout": self._update,
            "UpdateMPUTask": self._update, "StopMPUTask": self._stop,
            "CreateMPULayout": self.layouts.create, "ModifyMPULayout": self.layouts.modify,
            "DescribeMPULayoutInfoList": self.layouts.describe,
            "DeleteMPULayout": lambda params, app_id: self.layouts.delete(params, app_id, self._layout_in_use),
        }

    # -- protocol --------------------------------------------------------------------------------
    def action_of(self, request: EmulatorRequest) -> str:
        return request.params().get("Action") or "(none)"

    def handle(self, request: EmulatorRequest) -> EmulatorResponse:
        params = request.params()
        action = params.get("Action", "")
        try:
            key_id = self._authenticate(request.method, params)
            handler = self.handlers.get(action)
            if handler is None:
                raise ApiError("UnsupportedOperation")
            if not self.within_limit(action, key_id):
                raise ApiError("Throttling.User")
            with self.lock:
                self._check_app(params, key_id)
                refusal = self.business.refusal(params["AppId"])
                if refusal is not None:
                    raise ApiError(refusal)
                payload = handler(params, params["AppId"])
        except ApiError as exc:
            return self._answer(params, f"{action}Response", exc.status,
                                {"RequestId": self.request_id(), "HostId": HOST_ID, "Code": exc.code,
                                 "Message": exc.message},
                                "throttled" if exc.code.startswith("Throttling") else f"error:{exc.code}")
        return self._answer(params, f"{action}Response", 200, {"RequestId": self.request_id(), **payload}, "ok")

    def error_response(self, request: EmulatorRequest, code: str | None, status: int | None,
                       message: str | None) -> EmulatorResponse:
        code = code or "Service.BuildSignature"
        default_status, default_message = ERRORS.get(code, (500 if code.startswith("Service.") else 400, code))
        body = {"RequestId": self.request_id(), "HostId": HOST_ID, "Code": code,
                "Message": message or default_message.replace(' "{}"', "")}
        return self._answer(request.params(), "Error", status or default_status, body, f"error:{code}")

    def state_snapshot(self) -> dict[str, Any]:
        return {task_id: {**task.snapshot(), "mix": self.layouts.mix(task.layout["layoutIds"], task.layout["userPanes"])}
                for task_id, task in sorted(self.tasks.items())}

    def reset_tasks(self) -> None:
        self.tasks.clear()
        self.released.clear()
        self.nonces.clear()
        self.new_task_status = 1
        self.business.clear()
        self.layouts = LayoutBook(ApiError)
        self.handlers.update({
            "CreateMPULayout": self.layouts.create, "ModifyMPULayout": self.layouts.modify,
            "DescribeMPULayoutInfoList": self.layouts.describe,
            "DeleteMPULayout": lambda params, app_id: self.layouts.delete(params, app_id, self._layout_in_use)})

    def drift(self, body: Mapping[str, Any]) -> dict[str, Any]:
        if "layoutId" in body:
            return self.layouts.drift(body)
        task = self.tasks.get(str(body.get("taskId")))
        if task is None:
            raise ValueError(f"no task {body.get('taskId')!r}")
        if body.get("delete"):
            self._finish(task, task.status)
            del self.tasks[task.task_id]
            return {"deleted": task.task_id}
        if "status" in body:
            status = int(body["status"])
            if not 0 <= status <= 6:
                raise ValueError("status must be 0..6")
            if status in LIVE and task.status not in LIVE:
                raise ValueError("a stopped task cannot run again")
            if status in LIVE:
                task.status = status
            else:
                self._finish(task, status)
            task.history.append(f"drift:status={status}")
        elif "layout" in body:
            for key, name in (("layoutIds", "LayoutIds"), ("userPanes", "UserPanes"), ("cropMode", "CropMode"),
                              ("backgroundColor", "BackgroundColor")):
                if name in body["layout"]:
                    task.layout[key] = body["layout"][name]
            task.history.append("drift:layout")
        else:
            raise ValueError("drift needs one of status, layout or delete")
        return {"task": task.snapshot()}

    def control_extra(self, name: str, request: EmulatorRequest) -> EmulatorResponse | None:
        if name == "new-task-status" and request.method == "POST":
            status = int((request.json() or {}).get("status", 1))
            if status not in LIVE:
                return EmulatorResponse.json(400, {"error": "status must be 0 or 1"})
            self.new_task_status = status
            return EmulatorResponse.json(200, {"newTaskStatus": status})
        if name == "layouts" and request.method == "GET":
            return EmulatorResponse.json(200, {"layouts": self.layouts.snapshot()})
        if name == "business" and request.method == "GET":
            return EmulatorResponse.json(200, self.business.snapshot())
        if request.method != "POST":
            return None
        try:
            answer = self.business.control(name, request.json() or {}, self.tasks, self._finish, set(self.app_keys))
        except SettingError as exc:
            return EmulatorResponse.json(400, {"error": str(exc)})
        return None if answer is None else EmulatorResponse.json(200, answer)

    # -- authentication ------------------------------------------------------------------------------
    def _authenticate(self, method: str, params: Mapping[str, str]) -> str:
        """Return the AccessKeyId of a correctly signed, fresh, never-seen request."""
        for name, code in (("Timestamp", "Request.NoTimestamp"), ("Signature", "Request.NoSignature"),
                           ("SignatureNonce", "Request.NoNonce")):
            if not params.get(name):
                raise ApiError(code)
        for name in ("AccessKeyId", "Version", "SignatureMethod", "SignatureVersion"):
            if not params.get(name):
                raise ApiError("MissingParameter", name)
        if params["Version"] != API_VERSION:
            raise ApiError("NoSuchVersion")
        if params["SignatureMethod"].upper() != "HMAC-SHA1" or params["SignatureVersion"] != SIGNATURE_VERSION:
            raise ApiError("IncompleteSignature")
        now = self.clock.now()
        if abs(now - _utc_seconds(params["Timestamp"])) > TIMESTAMP_WINDOW:
            raise ApiError("Request.IllegalTimestamp")
        key_id = params["AccessKeyId"]
        secret = self.secrets.get(key_id)
        if secret is None:
            raise ApiError("Request.IllegalAuth")
        if not signatures_match(signature(method, params, secret), params["Signature"]):
            raise ApiError("Request.IllegalSignature")
        with self.lock:
            if not self.nonces.use((key_id, params["SignatureNonce"]), now):
                raise ApiError("Request.InvalidNonce")
        return key_id

    def _check_app(self, params: Mapping[str, str], key_id: str) -> None:
        app_id = params.get("AppId")
        if not app_id:
            raise ApiError("Request.NoAppID")
        if app_id not in self.app_keys:
            raise ApiError("Service.NoApp")
        if key_id not in self.app_keys[app_id]:
            raise ApiError("Request.InvalidAppID")

    # -- actions ---------------------------------------------------------------------------------------
    def _task(self, params: Mapping[str, str], app_id: str) -> MpuTask:
        task_id = params.get("TaskId", "")
        if not TASK_ID.match(task_id):
            raise ApiError("InvalidTask.IDError")
        task = self.tasks.get(task_id)
        if task is None or task.app_id != app_id:
            raise ApiError("InvalidTask.NotFound")
        return task

    def _start(self, params: dict[str, str], app_id: str) -> dict[str, Any]:
        channel = params.get("ChannelId")
        if not channel:
            raise ApiError("Request.NoChannelID")
        if not CHANNEL_ID.match(channel):
            raise ApiError("Request.InvalidChannelID")
        task_id = params.get("TaskId", "")
        if not TASK_ID.match(task_id):
            raise ApiError("InvalidTask.IDError")
        layout = parse_layout(params)
        self.layouts.check_task_layouts(layout["layoutIds"], app_id)
        media_encode = int_param(params, "MediaEncode", None, lambda v: v in MEDIA_ENCODES)
        profile = params.get("TaskProfile") or None
        if profile is not None and profile not in TASK_PROFILES:
            raise ApiError("InvalidParameter", "TaskProfile")
        stream_url = params.get("StreamURL")
        if not stream_url:
            raise ApiError("MissingParameter", "StreamURL")
        if task_id in self.tasks:
            raise ApiError("Task.AlreadyExists")
        now = self.clock.now()
        if any(t.stream_url == stream_url and t.status in LIVE for t in self.tasks.values()):
            raise ApiError("StreamURL.InUse")
        if now - self.released.get(stream_url, -1e18) < STREAM_URL_REUSE_SECONDS:
            raise ApiError("StreamURL.RecentlyStopped")
        status = self.business.start_status(app_id, channel, stream_url, self.new_task_status, self.tasks)
        if isinstance(status, str):
            raise ApiError(status)
        self.tasks[task_id] = MpuTask(
            task_id=task_id, app_id=app_id, channel=channel, stream_url=stream_url,
            status=status, media_encode=media_encode, task_profile=profile, layout=layout,
            params=_own_params(params), started_at=now, history=["StartMPUTask"])
        return {}

    def _status(self, params: dict[str, str], app_id: str) -> dict[str, Any]:
        return {"Status": self._task(params, app_id).status}

    def _update(self, params: dict[str, str], app_id: str) -> dict[str, Any]:
        task = self._task(params, app_id)
        if task.status not in LIVE:
            raise ApiError("InvalidTask.Stopped")
        layout = parse_layout(params)
        self.layouts.check_task_layouts(layout["layoutIds"], app_id)
        if params.get("Action") == "UpdateMPUTask":
            task.media_encode = int_param(params, "MediaEncode", task.media_encode, lambda v: v in MEDIA_ENCODES)
        task.layout = layout
        task.params = {**task.params, **_own_params(params)}
        task.history.append(params["Action"])
        return {}

    def _stop(self, params: dict[str, str], app_id: str) -> dict[str, Any]:
        task = self._task(params, app_id)
        if task.status in LIVE:
            self._finish(task, 3)
            task.history.append("StopMPUTask")
        return {}

    def _layout_in_use(self, layout_id: int) -> bool:
        return any(layout_id in t.layout["layoutIds"] for t in self.tasks.values() if t.status in LIVE)

    def _finish(self, task: MpuTask, status: int) -> None:
        """Stop a live task with `status`; its StreamURL becomes reusable 10 s later."""
        if task.status in LIVE:
            task.stopped_at = self.clock.now()
            self.released[task.stream_url] = task.stopped_at
        task.status = status

    # -- envelopes -----------------------------------------------------------------------------------
    def _answer(self, params: Mapping[str, str], root: str, status: int, body: dict[str, Any],
                outcome: str) -> EmulatorResponse:
        if params.get("Format", "").upper() == "JSON":
            response = EmulatorResponse.json(status, body, outcome)
            response.content_type = "application/json;charset=utf-8"
            return response
        root = "Error" if "Code" in body else root
        inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in body.items())
        xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>{inner}</{root}>'
        return EmulatorResponse(status, xml.encode("utf-8"), "text/xml;charset=utf-8", {}, outcome)


def _own_params(params: Mapping[str, str]) -> dict[str, str]:
    """The action's own parameters, without the common (signature) ones."""
    return {k: v for k, v in sorted(params.items()) if k not in COMMON_PARAMS}
