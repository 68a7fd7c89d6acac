"""Tencent live engine REST emulator (`console.tim.qq.com`): MCU mixes of live rooms.

Written from the REST conventions document (003), resume_mcu_task (001) and Tencent's public
set_mix_stream page:
- `POST /v4/live_engine_http_srv/<command>?sdkappid=&identifier=&usersig=&random=&contenttype=json`,
  a JSON body that is never empty, and HTTP 200 with `{ActionStatus, ErrorInfo, ErrorCode, RequestId}`
  for every answer (errors included);
- the UserSig is verified as TLSSigAPIv2 (signature with the app's key, expiry against the emulator
  clock, made for the `identifier` of the query) and the identifier must be the App admin (60010);
- 60002 (not POST, contenttype), 60003 (empty or bad JSON body), 60004 (UserSig), 60006 (SDKAppID),
  60009 (unknown command), 60012 (no sdkappid); 100002 bad parameters, 100004 no such room, 100006 room
  not a live room with IsUnlimitedRoomEnabled, 100422 over 20 mix operations/s per SDKAppID,
  100424 resume of a room without a mix task, 100429 LayoutMode other than 0 or 1000.
Every room exists as a live room unless a test says otherwise (POST /_emulator/rooms). Tencent has
no documented pause, stop or describe call; the emulator's tasks can be paused only by drift.
The other business codes of both documents come from the app's and the room's own settings, checked
after authentication in this order (the order is an assumption): 60016 SDKAppID disabled, 60020
package expired, 60021 caller IP not allowed, 60017 command disabled, 100007 paid plan without
mixing; per room 100428 host information unavailable and 100427 a second mixing operation within the
room's minimum interval (the document gives no figure, so the default is none). 60015 answers a
Member_Account that is not a string.

Control endpoints beyond the base ones:
    POST /_emulator/drift  {"roomId": ID, "status": "paused"|"running"}  the MCU task paused/resumed
                           {"roomId": ID, "remove": true}                 the task went away
                           {"roomId": ID, "layoutMode": 0}                someone reset the layout
    POST /_emulator/rooms  {"roomId": ID, "exists": bool, "unlimited": bool, "hostInfo": bool,
                            "minIntervalSeconds": s}
    POST /_emulator/account {"sdkAppId": N, "disabled": bool, "packageExpired": bool, "ipAllowed": bool,
                             "blockedCommands": [command, ...], "mixingPlan": bool}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from reconciler.emulator.base import EmulatorRequest, EmulatorResponse, VendorEmulator
from reconciler.vendors.tencent.usersig import UserSigError, verify

SERVICE = "live_engine_http_srv"
COMMANDS = ("set_mix_stream", "resume_mcu_task")
ROOM_ID_MAX_BYTES = 48
DEFAULT_CANVAS = (1280, 720)  # VideoEncode defaults to 720p

APP_DEFAULTS: dict[str, Any] = {"disabled": False, "packageExpired": False, "ipAllowed": True,
                                "blockedCommands": [], "mixingPlan": True}
ROOM_DEFAULTS: dict[str, Any] = {"exists": True, "unlimited": True, "hostInfo": True, "minIntervalSeconds": 0.0}

MESSAGES: dict[int, str] = {  # the wording of both documents' tables
    60002: "HTTP parsing error", 60003: "HTTP request JSON parsing error",
    60004: "error in account or signature", 60005: "error in account or signature",
    60006: "SDKAppID is invalid", 60007: "the REST API call frequency exceeds the limit",
    60008: "service request timeout or HTTP request format error", 60009: "request resource error",
    60010: "the request requires App administrator permissions",
    60011: "the SDKAppID request frequency exceeds the limit", 60012: "the RESTful API requires an SDKAppID",
    60013: "HTTP response packet JSON parsing error", 60014: "account switching timeout",
    60015: "error in account type in request body: accounts are strings", 60016: "SDKAppID is disabled",
    60017: "the request is disabled", 60018: "frequent requests, please retry later",
    60019: "frequent requests, try again later", 60020: "your package has expired and been disabled",
    60021: "the call source IP of the REST API is illegal",
    100007: "the paid plan fails to satisfy",
    100001: "internal server error, please retry", 100002: "invalid parameter",
    100004: "room does not exist or is dissolved",
    100006: "the room is not a live room with IsUnlimitedRoomEnabled set to true",
    100422: "too many requests: at most 20 mixing operations per second per SDKAppID",
    100424: "mix stream task does not exist", 100427: "the mixing operation in this room is too fast",
    100428: "failed to pull the host information", 100429: "invalid mixing mode",
}


class TencentError(Exception):
    def __init__(self, code: int, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}")


class TencentEmulator(VendorEmulator):
    vendor = "tencent"
    DEMO_ACCOUNTS: ClassVar[list[dict[str, Any]]] = [
        {"sdkAppId": 1400000001, "key": "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
         "admin": "administrator"},
    ]
    DEMO_ENV: ClassVar[dict[str, str]] = {
        "TENCENT_SECRET_KEY": "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
    }
    DEFAULT_LIMITS: ClassVar[dict[str, tuple[float, float]]] = {"mix": (20, 1.0)}

    def __init__(self, accounts: list[dict[str, Any]] | None = None, clock: Any = None) -> None:
        super().__init__(accounts, clock)
        self.apps = {int(a["sdkAppId"]): {"key": str(a["key"]), "admin": str(a["admin"])} for a in self.accounts}
        self.rooms: dict[tuple[int, str], dict[str, Any]] = {}
        self.app_settings: dict[int, dict[str, Any]] = {}
        self.room_ops: dict[tuple[int, str], float] = {}  # when each room last had a mixing operation
        self.mixes: dict[tuple[int, str], dict[str, Any]] = {}
        self._serial = 0

    def action_of(self, request: EmulatorRequest) -> str:
        parts = request.path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "v4" and parts[1] == SERVICE and parts[2] in COMMANDS:
            return parts[2]
        return "unknown"

    def handle(self, request: EmulatorRequest) -> EmulatorResponse:
        try:
            command = self._route(request)
            app_id = self._authenticate(request)
            body = self._body(request)
            with self.lock:
                self._check_app(app_id, command)
                if not self.within_limit("mix", str(app_id)):
                    raise TencentError(100422)
                if command == "set_mix_stream":
                    self._set_mix_stream(app_id, body)
                else:
                    self._resume(app_id, body)
            return self._answer(0, "")
        except TencentError as exc:
            return self._answer(exc.code, exc.detail)

    def _answer(self, code: int, detail: str) -> EmulatorResponse:
        self._serial += 1
        info = "" if code == 0 else (f"{MESSAGES.get(code, 'error')}: {detail}" if detail else MESSAGES.get(code, "error"))
        outcome = "ok" if code == 0 else ("throttled" if code == 100422 else f"error:{code}")
        return EmulatorResponse.json(200, {
            "ActionStatus": "OK" if code == 0 else "FAIL", "ErrorInfo": info, "ErrorCode": code,
            "RequestId": f"Id-{self.request_id().replace('-', '').lower()}-O-Seq-{self._serial}",
        }, outcome)

    def _route(self, request: EmulatorRequest) -> str:
        if request.method != "POST":
            raise TencentError(60002, "the REST API accepts POST only")
        command = self.action_of(request)
        if command == "unknown":
            raise TencentError(60009, f"no API at {request.path}")
        return command

    def _authenticate(self, request: EmulatorRequest) -> int:
        q = {k: v[-1] for k, v in request.query.items()}
        if not q.get("sdkappid"):
            raise TencentError(60012)
        if not q["sdkappid"].isdigit() or int(q["sdkappid"]) not in self.apps:
            raise TencentError(60006, f"unknown SDKAppID {q['sdkappid']!r}")
        app_id = int(q["sdkappid"])
        if q.get("contenttype") != "json":
            raise TencentError(60002, "contenttype must be json")
        random = q.get("random", "")
        if not random.isdigit() or int(random) > 4_294_967_295:
            raise TencentError(60002, "random must be a 32-bit unsigned integer")
        identifier, usersig = q.get("identifier"), q.get("usersig")
        if not identifier or not usersig:
            raise TencentError(60004, "identifier and usersig are required")
        app = self.apps[app_id]
        try:
            info = verify(usersig, app_id, app["key"], now=int(self.clock.now()))
        except UserSigError as exc:
            raise TencentError(60004, f"UserSig rejected ({exc.reason}): {exc}") from None
        if info.identifier != identifier:
            raise TencentError(60004, f"the UserSig was made for {info.identifier!r}, not {identifier!r}")
        if identifier != app["admin"]:
            raise TencentError(60010, f"{identifier!r} is not the App admin")
        return app_id

    def _body(self, request: EmulatorRequest) -> dict[str, Any]:
        if not request.body:
            raise TencentError(60003, "the POST body cannot be empty; send {} at least")
        try:
            body = request.json()
        except ValueError:
            raise TencentError(60003, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise TencentError(60003, "the body must be a JSON object")
        return body

    def _room(self, app_id: int, body: Mapping[str, Any]) -> str:
        room_id = body.get("RoomId")
        if not isinstance(room_id, str) or not room_id or len(room_id.encode("utf-8")) > ROOM_ID_MAX_BYTES:
            raise TencentError(100002, f"RoomId must be a string of 1-{ROOM_ID_MAX_BYTES} bytes")
        room = {**ROOM_DEFAULTS, **self.rooms.get((app_id, room_id), {})}
        if not room["exists"]:
            raise TencentError(100004, room_id)
        if not room["unlimited"]:
            raise TencentError(100006, room_id)
        if not room["hostInfo"]:
            raise TencentError(100428, room_id)
        now, last = self.clock.now(), self.room_ops.get((app_id, room_id))
        if last is not None and now - last < room["minIntervalSeconds"]:
            raise TencentError(100427, room_id)
        self.room_ops[(app_id, room_id)] = now
        return room_id

    def _check_app(self, app_id: int, command: str) -> None:
        app = {**APP_DEFAULTS, **self.app_settings.get(app_id, {})}
        for failed, code in ((app["disabled"], 60016), (app["packageExpired"], 60020), (not app["ipAllowed"], 60021),
                             (command in app["blockedCommands"], 60017), (not app["mixingPlan"], 100007)):
            if failed:
                raise TencentError(code, f"SDKAppID {app_id}")

    def _set_mix_stream(self, app_id: int, body: Mapping[str, Any]) -> None:
        room_id = self._room(app_id, body)
        mode = body.get("LayoutMode", 0)
        if mode not in (0, 1000) or isinstance(mode, bool):
            raise TencentError(100429, f"LayoutMode {mode!r}; expected 0 (grid) or 1000 (custom)")
        encode = body.get("VideoEncode")
        width, height = DEFAULT_CANVAS
        if encode is not None:
            if not isinstance(encode, dict) or not all(_positive(encode.get(k)) for k in ("Width", "Height")):
                raise TencentError(100002, "VideoEncode needs a positive integer Width and Height")
            width, height = encode["Width"], encode["Height"]
        layout_list: list[dict[str, Any]] = []
        if mode == 1000:
            info = body.get("LayoutInfo") or {}
            items = info.get("LayoutList") if isinstance(info, dict) else None
            if not isinstance(items, list) or not items:
                raise TencentError(100002, "custom mode (1000) needs LayoutInfo.LayoutList")
            layout_list = [_layout_item(i, item, room_id, width, height) for i, item in enumerate(items)]
        key = (app_id, room_id)
        task = self.mixes.get(key)
        if task is None:
            task = {"roomId": room_id, "status": "running", "updates": 0, "resumes": 0,
                    "startedAt": self.clock.now()}
            self.mixes[key] = task
        else:
            task["updates"] += 1
        task.update(layoutMode=mode, videoEncode={"Width": width, "Height": height}, layoutList=layout_list,
                    updatedAt=self.clock.now())

    def _resume(self, app_id: int, body: Mapping[str, Any]) -> None:
        room_id = self._room(app_id, body)
        task = self.mixes.get((app_id, room_id))
        if task is None:
            raise TencentError(100424, f"room {room_id} has no mix task")
        task["status"] = "running"
        task["resumes"] += 1

    # -- emulator plumbing ---------------------------------------------------------------------
    def error_response(self, request: EmulatorRequest, code: str | None, status: int | None,
                       message: str | None) -> EmulatorResponse:
        number = int(code) if code and str(code).isdigit() else 100001
        return EmulatorResponse.json(status or 200, {
            "ActionStatus": "FAIL", "ErrorInfo": message or MESSAGES.get(number, "error"), "ErrorCode": number,
            "RequestId": f"Id-{self.request_id().replace('-', '').lower()}-O-Seq-0"})

    def state_snapshot(self) -> dict[str, Any]:
        return {"mixes": {room: dict(task) for (_, room), task in self.mixes.items()},
                "rooms": {room: dict(r) for (_, room), r in self.rooms.items()}}

    def drift(self, body: Mapping[str, Any]) -> dict[str, Any]:
        room_id = str(body.get("roomId", ""))
        keys = [k for k in self.mixes if k[1] == room_id]
        if not keys:
            raise KeyError(f"no mix task in room {room_id!r}")
        for key in keys:
            if body.get("remove"):
                del self.mixes[key]
            elif body.get("status") in ("paused", "running"):
                self.mixes[key]["status"] = body["status"]
            elif body.get("layoutMode") == 0:
                self.mixes[key].update(layoutMode=0, layoutList=[])
            else:
                raise ValueError("expected remove: true, status: paused|running or layoutMode: 0")
        return {"drifted": room_id}

    def control_extra(self, name: str, request: EmulatorRequest) -> EmulatorResponse | None:
        if name not in ("rooms", "account") or request.method != "POST":
            return None
        body = request.json() or {}
        app_id = int(body.get("sdkAppId") or next(iter(self.apps), 0))
        if app_id not in self.apps:
            return EmulatorResponse.json(400, {"error": f"no SDKAppID {app_id}"})
        if name == "account":
            settings = self.app_settings.setdefault(app_id, dict(APP_DEFAULTS))
            settings.update({k: body[k] for k in APP_DEFAULTS if k in body})
            return EmulatorResponse.json(200, {"sdkAppId": app_id, **settings})
        room_id = str(body.get("roomId", ""))
        room = {k: type(v)(body.get(k, v)) for k, v in ROOM_DEFAULTS.items()}
        self.rooms[(app_id, room_id)] = room
        return EmulatorResponse.json(200, {"roomId": room_id, **room})

    def reset_tasks(self) -> None:
        self.rooms.clear()
        self.mixes.clear()
        self.app_settings.clear()
        self.room_ops.clear()


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _layout_item(index: int, item: Any, room_id: str, width: int, height: int) -> dict[str, Any]:
    where = f"LayoutList[{index}]"
    if not isinstance(item, dict):
        raise TencentError(100002, f"{where} must be an object")
    numbers = {}
    for name in ("LocationX", "LocationY", "ImageWidth", "ImageHeight", "ZOrder"):
        value = item.get(name, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise TencentError(100002, f"{where}.{name} must be a non-negative integer")
        numbers[name] = value
    account = item.get("Member_Account")
    if account is not None and not isinstance(account, str):
        raise TencentError(60015, f"{where}.Member_Account")
    if not account:
        raise TencentError(100002, f"{where}.Member_Account is required")
    if item.get("StreamType", 0) not in (0, 1):
        raise TencentError(100002, f"{where}.StreamType must be 0 (camera) or 1 (screen)")
    if numbers["LocationX"] + numbers["ImageWidth"] > width or numbers["LocationY"] + numbers["ImageHeight"] > height:
        raise TencentError(100002, f"{where} extends past the {width}x{height} canvas")
    return {**numbers, "RoomId": str(item.get("RoomId", room_id)), "Member_Account": account,
            "StreamType": item.get("StreamType", 0)}
