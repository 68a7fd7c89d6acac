"""ZEGO server API emulator (`rtc-api.zego.im`): stream bans and stream mixing.

Written from the ResumeRTCStream document and ZEGO's public server API pages:
- every call carries the signed public query parameters (AppId uint32, SignatureNonce, Timestamp
  within +/- 10 minutes, Signature = md5(AppId + Nonce + ServerSecret + Timestamp), SignatureVersion
  2.0, IsTest); the failures the ResumeRTCStream document lists answer its own codes (30005 unknown
  AppId, 3002 Timestamp out of the window, 40005 wrong signature, 3000 / 3003 for an app that is
  invalid or has no token), where ZEGO's gateway answers 100000010 / 100000004 / 100000005 (the
  provider maps both); malformed or missing public parameters answer the gateway's 1000000xx codes,
  which the document does not list;
- ForbidRTCStream / ResumeRTCStream (GET, StreamId, Sequence): Sequence strictly increasing per stream
  within 10 s, else 30006 (the documents name no code for it: an assumption); test environment
  (IsTest=true) needs `zegotest-<AppId>-` stream ids (else 30009) and allows 5 calls/s instead of 20
  (30002); a ban on a stream that does not exist yet is recorded and answers success;
- DescribeRTCStreamState (GET, StreamId, 40/s): Code 0 publishing, 41004 never seen, 41006 closed;
- StartMix (POST JSON, starts or updates by TaskId), StopMix, GetMixTaskInfo (100/s each): Sequence
  strictly increasing per TaskId (else 110200002), UserId must match the task's (110200003),
  110209001 for a task that does not exist, 110200194 when over the limit.
Every answer is HTTP 200 with `{Code, Message, RequestId, Data}`.

Control endpoints beyond the base ones:
    POST /_emulator/account  {"appId": N, "state": "active"|"invalid", "tokenConfigured": bool}
                             the app's own settings: an invalid app answers 3000, one without a
                             token 3003, on every call after the signature check
    POST /_emulator/drift    {"taskId": ID, "remove": true}      the mix ended by itself (inputs gone)
                             {"taskId": ID, "mixInput": [...]}   someone else re-laid the mix out
                             {"streamId": ID, "banned": bool}    a ban added or lifted behind our back
    POST /_emulator/publish  {"streamId": ID, "publishing": bool} a client starts/stops publishing
                             (409 while the stream is banned)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from reconciler.emulator.base import EmulatorRequest, EmulatorResponse, VendorEmulator
from reconciler.vendors.zego.signing import SIGNATURE_VERSION, TIMESTAMP_WINDOW, signature_matches

BAN_ACTIONS = ("ForbidRTCStream", "ResumeRTCStream")
MIX_ACTIONS = ("StartMix", "StopMix", "GetMixTaskInfo")
ACTIONS = (*BAN_ACTIONS, "DescribeRTCStreamState", *MIX_ACTIONS)
STREAM_ID = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
SEQUENCE_WINDOW = 10.0  # seconds during which a stream's Sequence must increase
NOT_INCREASING = 30006  # assumption: the documents name no code for an out-of-order Sequence

MESSAGES: dict[int, str] = {
    3000: "invalid app", 3001: "internal error", 3002: "timestamp error", 3003: "app has no token configured",
    5006: "internal error", 30002: "request frequency too high", 30003: "internal error",
    30004: "invalid isTest", 30006: "invalid Sequence", 41004: "stream does not exist", 41006: "stream is closed",
    30005: "invalid AppId", 30009: "invalid StreamId", 40005: "authentication failed",
    100000001: "AppId field format error", 100000002: "Timestamp field is empty",
    100000003: "Timestamp field format error", 100000004: "signature expired", 100000005: "signature error",
    100000006: "Action is empty", 100000007: "unsupported Action", 100000008: "SignatureNonce field is empty",
    100000009: "Signature field is empty", 100000010: "failed to get ServerSecret",
    100000013: "SignatureVersion field is empty", 100000014: "unsupported SignatureVersion",
    110200001: "failed", 110200002: "input error", 110200003: "authentication failed",
    110200004: "failed to parse input parameters", 110200194: "stream mixing request overload",
    110209001: "stream mixing task does not exist",
}


class ZegoError(Exception):
    def __init__(self, code: int, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}")


class ZegoEmulator(VendorEmulator):
    vendor = "zego"
    DEMO_ACCOUNTS: ClassVar[list[dict[str, Any]]] = [
        {"appId": 1234567890, "serverSecret": "d3m0zeg0serversecret0123456789ab"},
    ]
    DEMO_ENV: ClassVar[dict[str, str]] = {"ZEGO_SERVER_SECRET": "d3m0zeg0serversecret0123456789ab"}
    DEFAULT_LIMITS: ClassVar[dict[str, tuple[float, float]]] = {
        "ForbidRTCStream": (20, 1.0), "ResumeRTCStream": (20, 1.0),
        "ForbidRTCStream:test": (5, 1.0), "ResumeRTCStream:test": (5, 1.0),
        "DescribeRTCStreamState": (40, 1.0),
        "StartMix": (100, 1.0), "StopMix": (100, 1.0), "GetMixTaskInfo": (100, 1.0),
    }

    def __init__(self, accounts: list[dict[str, Any]] | None = None, clock: Any = None) -> None:
        super().__init__(accounts, clock)
        self.secrets = {str(a["appId"]): str(a["serverSecret"]) for a in self.accounts}
        self.streams: dict[tuple[str, str], dict[str, Any]] = {}
        self.mixes: dict[tuple[str, str], dict[str, Any]] = {}
        self.mix_sequences: dict[tuple[str, str], int] = {}
        self.app_settings: dict[str, dict[str, Any]] = {}  # AppId -> {"state", "tokenConfigured"}

    # -- the vendor API ------------------------------------------------------------------------
    def action_of(self, request: EmulatorRequest) -> str:
        return (request.query.get("Action") or [""])[-1] or "unknown"

    def handle(self, request: EmulatorRequest) -> EmulatorResponse:
        try:
            action = self.action_of(request)
            if action == "unknown":
                raise ZegoError(100000006)
            if action not in ACTIONS:
                raise ZegoError(100000007, action)
            app_id, is_test = self._authenticate(request)
            with self.lock:
                data = self._serve(action, app_id, is_test, request)
            return self._answer(0, "success", data)
        except ZegoError as exc:
            return self._answer(exc.code, exc.detail)

    def _answer(self, code: int, detail: str, data: Any = None) -> EmulatorResponse:
        message = MESSAGES.get(code, "error") if code else detail
        if code and detail:
            message = f"{message}: {detail}"
        outcome = "ok" if code == 0 else ("throttled" if code in (30002, 110200194) else f"error:{code}")
        return EmulatorResponse.json(200, {"Code": code, "Message": message, "RequestId": self.request_id(),
                                           "Data": data}, outcome)

    def _authenticate(self, request: EmulatorRequest) -> tuple[str, bool]:
        q = {k: v[-1] for k, v in request.query.items()}
        app_id = q.get("AppId", "")
        if not app_id.isdigit() or not 0 < int(app_id) <= 4_294_967_295:
            raise ZegoError(100000001, "AppId must be a uint32")
        if not q.get("Timestamp"):
            raise ZegoError(100000002)
        if not q["Timestamp"].lstrip("-").isdigit():
            raise ZegoError(100000003)
        if not q.get("SignatureNonce"):
            raise ZegoError(100000008)
        if not q.get("Signature"):
            raise ZegoError(100000009)
        if not q.get("SignatureVersion"):
            raise ZegoError(100000013)
        if q["SignatureVersion"] != SIGNATURE_VERSION:
            raise ZegoError(100000014, "SignatureVersion only supports 2.0")
        secret = self.secrets.get(str(int(app_id)))
        if secret is None:
            raise ZegoError(30005, f"no app {app_id}")
        timestamp = int(q["Timestamp"])
        if abs(self.clock.now() - timestamp) > TIMESTAMP_WINDOW:
            raise ZegoError(3002, "Timestamp is more than 10 minutes away from the server time")
        if not signature_matches(app_id, q["SignatureNonce"], secret, timestamp, q["Signature"]):
            raise ZegoError(40005)
        settings = self.app_settings.get(str(int(app_id)), {})
        if settings.get("state", "active") != "active":
            raise ZegoError(3000, f"app {int(app_id)} is {settings['state']}")
        if not settings.get("tokenConfigured", True):
            raise ZegoError(3003)
        is_test = q.get("IsTest", "false").lower()
        if is_test not in ("true", "false"):
            raise ZegoError(30004, "IsTest must be true or false")
        return str(int(app_id)), is_test == "true"

    def _serve(self, action: str, app_id: str, is_test: bool, request: EmulatorRequest) -> Any:
        limit_key = f"{action}:test" if is_test and action in BAN_ACTIONS else action
        if not self.within_limit(limit_key, app_id):
            raise ZegoError(110200194 if action in MIX_ACTIONS else 30002)
        if action in BAN_ACTIONS:
            return self._ban(action, app_id, is_test, request.params())
        if action == "DescribeRTCStreamState":
            return self._describe(app_id, request.params())
        if action == "GetMixTaskInfo":
            return self._mix_info(app_id, request.params())
        try:
            body = request.json()
        except ValueError:
            raise ZegoError(110200004, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise ZegoError(110200004, "the body must be a JSON object")
        if action == "StartMix":
            return self._start_mix(app_id, is_test, body)
        return self._stop_mix(app_id, body)

    # -- stream bans ---------------------------------------------------------------------------
    def _ban(self, action: str, app_id: str, is_test: bool, params: Mapping[str, str]) -> None:
        stream_id = _stream_id(params.get("StreamId"), app_id, is_test, 30009)
        raw = params.get("Sequence", "")
        if not raw.isdigit():
            raise ZegoError(NOT_INCREASING, "Sequence must be an integer")
        sequence = int(raw)
        now = self.clock.now()
        stream = self.streams.setdefault((app_id, stream_id), {"banned": False, "publishing": False,
                                                               "seen": False, "sequence": None, "at": None})
        last, at = stream["sequence"], stream["at"]
        if last is not None and at is not None and now - at <= SEQUENCE_WINDOW and sequence <= last:
            raise ZegoError(NOT_INCREASING, f"Sequence {sequence} is not greater than {last}, the last one for "
                                            f"stream {stream_id} within {SEQUENCE_WINDOW:g} s")
        stream.update(sequence=sequence, at=now, banned=action == "ForbidRTCStream", isTest=is_test)
        if stream["banned"]:
            stream["publishing"] = False  # publishers are kicked off when the ban takes effect

    def _describe(self, app_id: str, params: Mapping[str, str]) -> dict[str, Any]:
        stream_id = params.get("StreamId") or ""
        stream = self.streams.get((app_id, stream_id))
        if stream is None or not stream["seen"]:
            raise ZegoError(41004, f"no stream {stream_id}")
        if not stream["publishing"]:
            raise ZegoError(41006, f"stream {stream_id} is closed")
        return {"StreamId": stream_id, "State": "active"}

    # -- stream mixing -------------------------------------------------------------------------
    def _start_mix(self, app_id: str, is_test: bool, body: Mapping[str, Any]) -> dict[str, Any]:
        task_id, sequence, user_id = body.get("TaskId"), body.get("Sequence"), body.get("UserId")
        if not isinstance(task_id, str) or not task_id:
            raise ZegoError(110200002, "TaskId is required")
        if not isinstance(sequence, int) or isinstance(sequence, bool):
            raise ZegoError(110200002, "Sequence must be an integer")
        if not isinstance(user_id, str) or not user_id:
            raise ZegoError(110200002, "UserId is required")
        outputs = _outputs(body.get("MixOutput"), app_id, is_test)
        inputs = _inputs(body.get("MixInput"), outputs[0], app_id, is_test)
        key = (app_id, task_id)
        self._check_sequence(key, sequence)
        task = self.mixes.get(key)
        if task is not None and task["userId"] != user_id:
            raise ZegoError(110200003, f"task {task_id} belongs to UserId {task['userId']}")
        now = self.clock.now()
        if task is None:
            task = {"taskId": task_id, "appId": app_id, "userId": user_id, "startedAt": now, "updates": 0}
            self.mixes[key] = task
        else:
            task["updates"] += 1
        task.update(status="running", sequence=sequence, isTest=is_test, input=inputs, output=outputs,
                    updatedAt=now)
        self.mix_sequences[key] = sequence
        return {"TaskId": task_id, "Sequence": sequence}

    def _check_sequence(self, key: tuple[str, str], sequence: int) -> None:
        last = self.mix_sequences.get(key)
        if last is not None and sequence <= last:
            raise ZegoError(110200002, f"Sequence {sequence} is not greater than {last}, the last one for "
                                       f"task {key[1]}")

    def _stop_mix(self, app_id: str, body: Mapping[str, Any]) -> None:
        task_id = body.get("TaskId")
        if not isinstance(task_id, str) or not task_id:
            raise ZegoError(110200002, "TaskId is required")
        key = (app_id, task_id)
        task = self.mixes.get(key)
        if task is None:
            raise ZegoError(110209001, f"no task {task_id}")
        sequence = body.get("Sequence")
        if sequence is not None:
            if not isinstance(sequence, int) or isinstance(sequence, bool):
                raise ZegoError(110200002, "Sequence must be an integer")
            self._check_sequence(key, sequence)
            self.mix_sequences[key] = sequence
        user_id = body.get("UserId")
        if user_id is not None and user_id != task["userId"]:
            raise ZegoError(110200003, f"task {task_id} belongs to UserId {task['userId']}")
        del self.mixes[key]

    def _mix_info(self, app_id: str, params: Mapping[str, str]) -> dict[str, Any]:
        task_id = params.get("TaskId") or ""
        task = self.mixes.get((app_id, task_id))
        if task is None:
            raise ZegoError(110209001, f"no task {task_id}")
        return {"TaskId": task_id, "Sequence": task["sequence"], "UserId": task["userId"],
                "MixInput": task["input"], "MixOutput": task["output"]}

    # -- emulator plumbing ---------------------------------------------------------------------
    def error_response(self, request: EmulatorRequest, code: str | None, status: int | None,
                       message: str | None) -> EmulatorResponse:
        number = int(code) if code and str(code).isdigit() else 110200001
        text = message or MESSAGES.get(number, "error")
        return EmulatorResponse.json(status or 200, {"Code": number, "Message": text,
                                                     "RequestId": self.request_id(), "Data": None})

    def state_snapshot(self) -> dict[str, Any]:
        return {
            "mixes": {task["taskId"]: dict(task) for task in self.mixes.values()},
            "streams": {sid: {"appId": app, **s} for (app, sid), s in self.streams.items()},
            "apps": {app: dict(settings) for app, settings in self.app_settings.items()},
        }

    def drift(self, body: Mapping[str, Any]) -> dict[str, Any]:
        if "taskId" in body:
            keys = [k for k in self.mixes if k[1] == body["taskId"]]
            if not keys:
                raise KeyError(f"no mix task {body['taskId']}")
            for key in keys:
                if body.get("remove"):
                    del self.mixes[key]
                elif "mixInput" in body:
                    self.mixes[key]["input"] = list(body["mixInput"])
                else:
                    raise ValueError("expected remove: true or mixInput")
            return {"drifted": body["taskId"]}
        if "streamId" in body and "banned" in body:
            stream = self._stream_for_control(str(body["streamId"]))
            stream["banned"] = bool(body["banned"])
            if stream["banned"]:
                stream["publishing"] = False
            return {"drifted": body["streamId"]}
        raise ValueError("expected {taskId, remove|mixInput} or {streamId, banned}")

    def control_extra(self, name: str, request: EmulatorRequest) -> EmulatorResponse | None:
        if name == "account" and request.method == "POST":
            return self._account_settings(request.json() or {})
        if name != "publish" or request.method != "POST":
            return None
        body = request.json() or {}
        stream = self._stream_for_control(str(body.get("streamId", "")))
        publishing = bool(body.get("publishing", True))
        if publishing and stream["banned"]:
            return EmulatorResponse.json(409, {"error": f"stream {body.get('streamId')} is banned"})
        stream.update(publishing=publishing, seen=True)
        return EmulatorResponse.json(200, {"streamId": body.get("streamId"), "publishing": publishing})

    def _account_settings(self, body: Mapping[str, Any]) -> EmulatorResponse:
        app_id = str(body.get("appId", ""))
        if app_id not in self.secrets:
            return EmulatorResponse.json(400, {"error": f"no app {app_id!r}"})
        settings = self.app_settings.setdefault(app_id, {"state": "active", "tokenConfigured": True})
        if body.get("state", settings["state"]) not in ("active", "invalid"):
            return EmulatorResponse.json(400, {"error": "state must be active or invalid"})
        settings["state"] = body.get("state", settings["state"])
        settings["tokenConfigured"] = bool(body.get("tokenConfigured", settings["tokenConfigured"]))
        return EmulatorResponse.json(200, {"appId": app_id, **settings})

    def _stream_for_control(self, stream_id: str) -> dict[str, Any]:
        matches = [s for (_, sid), s in self.streams.items() if sid == stream_id]
        if matches:
            return matches[0]
        app_id = str(self.accounts[0]["appId"]) if self.accounts else "0"
        return self.streams.setdefault((app_id, stream_id), {"banned": False, "publishing": False, "seen": False,
                                                             "sequence": None, "at": None})

    def reset_tasks(self) -> None:
        self.streams.clear()
        self.mixes.clear()
        self.mix_sequences.clear()
        self.app_settings.clear()


def _stream_id(value: Any, app_id: str, is_test: bool, code: int) -> str:
    if not isinstance(value, str) or not STREAM_ID.match(value):
        raise ZegoError(code, f"StreamId {value!r} must be 1-256 characters of A-Z a-z 0-9 _ -")
    prefix = f"zegotest-{app_id}-"
    if is_test and not value.startswith(prefix):
        raise ZegoError(code, f"in the test environment stream ids start with {prefix}")
    return value


def _int_field(item: Mapping[str, Any], name: str, where: str) -> int:
    value = item.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ZegoError(110200002, f"{where}.{name} must be a non-negative integer")
    return value


def _outputs(raw: Any, app_id: str, is_test: bool) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise ZegoError(110200002, "MixOutput must list at least one output")
    outputs = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("StreamId"), str):
            raise ZegoError(110200002, f"MixOutput[{i}].StreamId is required")
        target = item["StreamId"]
        if not target.startswith(("rtmp://", "rtmps://")):
            _stream_id(target, app_id, is_test, 110200002)
        fields = {n: _int_field(item, n, f"MixOutput[{i}]") for n in ("Width", "Height", "VideoBitrate", "Fps")}
        if fields["Width"] == 0 or fields["Height"] == 0:
            raise ZegoError(110200002, f"MixOutput[{i}] needs a Width and Height above 0")
        outputs.append({"StreamId": target, **fields})
    return outputs


def _inputs(raw: Any, output: Mapping[str, Any], app_id: str, is_test: bool) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise ZegoError(110200002, "MixInput must list at least one input stream")
    inputs = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ZegoError(110200002, f"MixInput[{i}] must be an object")
        stream_id = _stream_id(item.get("StreamId"), app_id, is_test, 110200002)
        rect = item.get("RectInfo")
        if not isinstance(rect, dict):
            raise ZegoError(110200002, f"MixInput[{i}].RectInfo is required")
        box = {n: _int_field(rect, n, f"MixInput[{i}].RectInfo") for n in ("Top", "Left", "Bottom", "Right")}
        if not (box["Left"] < box["Right"] <= output["Width"] and box["Top"] < box["Bottom"] <= output["Height"]):
            raise ZegoError(110200002, f"MixInput[{i}].RectInfo {box} is not inside the "
                                       f"{output['Width']}x{output['Height']} output")
        inputs.append({"StreamId": stream_id, "RectInfo": box})
    return inputs
