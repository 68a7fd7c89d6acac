"""anyRTC cloud recording (Agora-compatible REST API), emulated from the vendor document.

    POST /v1/apps/<appid>/cloud_recording/acquire
    POST /v1/apps/<appid>/cloud_recording/resourceid/<rid>/mode/<mode>/start
    GET  /v1/apps/<appid>/cloud_recording/resourceid/<rid>/sid/<sid>/mode/<mode>/query
    POST .../resourceid/<rid>/sid/<sid>/mode/<mode>/{update,updateLayout,stop}

HTTP Basic auth with a customer ID and secret (401 "Unauthorized" without the header, 401 "Invalid
authentication credentials" when wrong, when the App ID belongs to another customer, or when the
Content-Type is `application/json;charset=utf-8` miscased or with spaces, as the document's list of
causes says); a POST whose Content-Type is anything else, or whose body is not JSON, answers code 8;
an App ID without cloud recording answers acquire with code 62 (HTTP 400) and every other call with
401 "Invalid authentication credentials" (the document names both; which call gets which is an
assumption); 404 "no Route
matched with those values" for an unknown path or method; 10 requests/s per App ID (429 "API rate limit
exceeded"). Vendor errors answer `{"code": n, "reason": text}`, HTTP 400 (404 for a recording that no
longer runs). A resource ID is valid 5 minutes (emulator clock), bound to appid+cname+uid, and starts
one recording only (7 when reused, 433 when expired, 432 on mismatch, 53 when that cname+uid already
records). query answers `status` 4, then 5 once the first file is uploaded (10 s after start with users
present); fileList as a string in mix mode and as per-UID JSON in individual mode; none for snapshots;
Aliyun VoD recordings report `extensionServiceState` and `subServiceStatus` instead of a status.

The recorder exits by itself once its channel has had no users for maxIdleTime (evaluated lazily on
every request and state read against the emulator clock); afterwards query/update/stop answer 404.

Control endpoints beyond the shared ones:
    POST /_emulator/channels  {"cname": ..., "appId": optional (default: the first account's),
                               "usersPresent": bool (default true for every channel),
                               "users": ["1001", ...] (UIDs named in individual-mode fileLists)}
    GET  /_emulator/channels  the channel flags
    POST /_emulator/account   {"appId": ..., "cloudRecording": bool, "exitSeconds": s}  the App ID's
                              cloud recording permission (default: enabled) and how long a stopped
                              recorder keeps exiting, query answering 501 meanwhile (default 0)
    POST /_emulator/drift     {"sid": ..., "exit": true, "status": 20 | 8}  the recorder exits abnormally
                              (20, default) or is about to exit (8): query answers that status;
                              update/updateLayout/stop answer 404
                              {"sid": ..., "gone": true}   the recording vanished: every call answers 404
                              {"sid": ..., "status": 0-7}  force the status query reports

Assumptions where the document is vague (Agora's public docs decide; see docs/vendors/anyrtc.md):
error bodies are {"code", "reason"} with HTTP 400, 404 for a recording that ended; update overwrites
the whole subscription (a medium left out records nothing); a stopped recording answers query 404 at
once; the idle timer starts when the channel empties or the recording starts, whichever is later.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
import secrets
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from reconciler.emulator.base import EmulatorRequest, EmulatorResponse, VendorEmulator
from reconciler.vendors.anyrtc.emulator_rules import (
    REASONS,
    Rejected,
    check_acquire,
    check_layout,
    check_start,
    check_update,
)

ROUTE = re.compile(
    r"^/v1/apps/(?P<appid>[^/]+)/cloud_recording/(?:(?P<acquire>acquire)"
    r"|resourceid/(?P<rid>[^/]+)/(?:sid/(?P<sid>[^/]+)/)?mode/(?P<mode>[^/]+)/"
    r"(?P<action>start|query|update|updateLayout|stop))$"
)
RESOURCE_TTL = 300.0
FIRST_SLICE_SECONDS = 10.0
SECRET_FIELDS = ("accessKey", "secretKey", "secret", "token")
CONTENT_TYPE = "application/json;charset=utf-8"  # exactly so: the document's header rule


class AnyrtcEmulator(VendorEmulator):
    vendor: ClassVar[str] = "anyrtc"
    DEMO_ACCOUNTS: ClassVar[list[dict[str, Any]]] = [
        {"appId": "demo-anyrtc-app", "customerId": "demo-anyrtc-customer", "customerSecret": "demo-anyrtc-secret-7f3c"},
        {"appId": "demo-anyrtc-other", "customerId": "demo-anyrtc-customer-2", "customerSecret": "demo-anyrtc-secret-2b"},
    ]
    DEMO_ENV: ClassVar[dict[str, str]] = {
        "ANYRTC_CUSTOMER_ID": "demo-anyrtc-customer",
        "ANYRTC_CUSTOMER_SECRET": "demo-anyrtc-secret-7f3c",
        "ANYRTC_STORAGE_ACCESS_KEY": "demo-storage-access-key",
        "ANYRTC_STORAGE_SECRET_KEY": "demo-storage-secret-key-9d21",
        "ANYRTC_VOD_ACCESS_KEY_ID": "demo-vod-access-key",
        "ANYRTC_VOD_ACCESS_KEY_SECRET": "demo-vod-secret-key-5b80",
    }
    DEFAULT_LIMITS: ClassVar[dict[str, tuple[float, float]]] = {"cloud_recording": (10, 1.0)}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.resources: dict[str, dict[str, Any]] = {}
        self.recordings: dict[str, dict[str, Any]] = {}
        self.channels: dict[tuple[str, str], dict[str, Any]] = {}
        self.app_settings: dict[str, dict[str, Any]] = {}  # App ID -> {"cloudRecording", "exitSeconds"}

    # -- routing and envelope ---------------------------------------------------------------------
    def action_of(self, request: EmulatorRequest) -> str:
        match = ROUTE.match(request.path)
        if match is None:
            return "unknown"
        return "acquire" if match["acquire"] else match["action"]

    def error_response(self, request: EmulatorRequest, code: str | None, status: int | None,
                       message: str | None) -> EmulatorResponse:
        if status == 429 or code == "429":
            return EmulatorResponse.json(429, {"message": message or "API rate limit exceeded"}, "throttled")
        if code is None:
            return EmulatorResponse.json(status or 500, {"message": message or "internal error"},
                                         f"error:{status or 500}")
        body: dict[str, Any] = {"code": int(code) if str(code).isdigit() else code,
                                "reason": message or REASONS.get(str(code), "error")}
        match = ROUTE.match(request.path)
        if match and match["rid"]:
            body["resourceId"] = match["rid"]
        if match and match["sid"]:
            body["sid"] = match["sid"]
        return EmulatorResponse.json(status or (404 if str(code) == "404" else 400), body, f"error:{code}")

    def _reject(self, exc: Rejected, extra: Mapping[str, Any] | None = None) -> EmulatorResponse:
        return EmulatorResponse.json(exc.status, {**(extra or {}), "code": exc.code, "reason": exc.reason},
                                     f"error:{exc.code}")

    def handle(self, request: EmulatorRequest) -> EmulatorResponse:
        match = ROUTE.match(request.path)
        action = self.action_of(request)
        wanted = "GET" if action == "query" else "POST"
        if match is None or request.method != wanted:
            return EmulatorResponse.json(404, {"message": "no Route matched with those values"}, "error:route")
        appid = match["appid"]
        refused = self._authenticate(request, appid)
        if refused is not None:
            return refused
        if not self.within_limit("cloud_recording", appid):
            return EmulatorResponse.json(429, {"message": "API rate limit exceeded"}, "throttled")
        if not self.app_settings.get(appid, {}).get("cloudRecording", True):
            if action == "acquire":
                return self._reject(Rejected(62, REASONS["62"]))
            return EmulatorResponse.json(401, {"message": "Invalid authentication credentials"}, "error:auth")
        body: Any = None
        if request.method == "POST":
            try:
                if request.headers.get("content-type", "") != CONTENT_TYPE:
                    raise ValueError("content type")
                body = request.json()
            except ValueError:
                return self._reject(Rejected(8, "Content-type must be application/json;charset=utf-8 and the "
                                                "body valid JSON"))
        with self.lock:
            self._tick()
            try:
                if action == "acquire":
                    return self._acquire(appid, body)
                if match["mode"] not in ("mix", "individual"):
                    raise Rejected(2, f"invalid mode {match['mode']!r}: mix or individual")
                if action == "start":
                    return self._start(appid, match["rid"], match["mode"], body)
                return self._session(action, appid, match["rid"], match["sid"], match["mode"], body)
            except Rejected as exc:
                ids = {k: v for k, v in (("resourceId", match["rid"]), ("sid", match["sid"])) if v}
                return self._reject(exc, ids)

    def _authenticate(self, request: EmulatorRequest, appid: str) -> EmulatorResponse | None:
        header = request.headers.get("authorization", "")
        if not header:
            return EmulatorResponse.json(401, {"message": "Unauthorized"}, "error:auth")
        invalid = EmulatorResponse.json(401, {"message": "Invalid authentication credentials"}, "error:auth")
        ctype = request.headers.get("content-type")
        if ctype is not None and ctype != CONTENT_TYPE and "".join(ctype.split()).lower() == CONTENT_TYPE:
            return invalid  # the gateway refuses a miscased or spaced header before anything else
        scheme, _, encoded = header.partition(" ")
        if scheme != "Basic":
            return invalid
        try:
            customer, _, secret = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return invalid
        mine = [a for a in self.accounts
                if a.get("customerId") == customer and secrets.compare_digest(str(a.get("customerSecret", "")), secret)]
        if not mine:
            return invalid
        if not any(str(a.get("appId")) == appid for a in mine):
            if any(str(a.get("appId")) == appid for a in self.accounts):
                return invalid  # the App ID belongs to another customer
            return EmulatorResponse.json(400, {"message": "invalid appid"}, "error:appid")
        return None

    # -- acquire / start --------------------------------------------------------------------------
    def _acquire(self, appid: str, body: Any) -> EmulatorResponse:
        cname, uid, hours = check_acquire(body)
        rid = secrets.token_urlsafe(96)
        self.resources[rid] = {"resourceId": rid, "appId": appid, "cname": cname, "uid": uid,
                               "acquiredAt": self.clock.now(), "expiredHour": hours, "sid": None}
        return EmulatorResponse.json(200, {"resourceId": rid})

    def _start(self, appid: str, rid: str, mode: str, body: Any) -> EmulatorResponse:
        resource = self.resources.get(rid)
        if resource is None:
            raise Rejected(1001, "failed to decode resource ID: acquire a new one")
        if not isinstance(body, Mapping):
            raise Rejected(2, "body must be a JSON object")
        if (resource["appId"], resource["cname"], resource["uid"]) != (appid, body.get("cname"), body.get("uid")):
            raise Rejected(432, "the App ID, cname or uid does not match the resource ID")
        if resource["sid"] is not None:
            raise Rejected(7, "the recording is already running: do not start twice with one resource ID")
        if self.clock.now() > resource["acquiredAt"] + RESOURCE_TTL:
            raise Rejected(433, "resource ID expired: start within 5 minutes of acquire, or acquire again")
        for other in self.recordings.values():
            if (other["appId"], other["cname"], other["uid"]) == (appid, resource["cname"], resource["uid"]) \
                    and other["phase"] == "recording":
                raise Rejected(53, "already recording in this channel with this uid; use another uid for a "
                                   "second recording")
        accepted = check_start(mode, body.get("clientRequest"))
        sid = uuid.uuid4().hex
        now = self.clock.now()
        channel = self._channel(appid, resource["cname"])
        transcoding = accepted["transcoding"] or {}
        self.recordings[sid] = {
            "sid": sid, "resourceId": rid, "appId": appid, "cname": resource["cname"], "uid": resource["uid"],
            "mode": mode, "phase": "recording", "status": None, "startedAt": now,
            "expiresAt": now + resource["expiredHour"] * 3600, "idleLimit": accepted["maxIdleTime"],
            "streamTypes": accepted["streamTypes"], "output": accepted["output"],
            "published": channel["usersPresent"], "subscription": accepted["subscription"],
            "layout": {k: transcoding.get(k) for k in ("mixedVideoLayout", "backgroundColor", "layoutConfig",
                                                       "maxResolutionUid")} if mode == "mix" else None,
            "clientRequest": _masked(body.get("clientRequest")),
            "updates": 0, "layoutUpdates": 0, "endedBy": None,
        }
        if mode == "mix" and not transcoding:
            self.recordings[sid]["layout"] = check_layout({}, "transcodingConfig", 2)
        resource["sid"] = sid
        return EmulatorResponse.json(200, {"resourceId": rid, "sid": sid})

    # -- query / update / updateLayout / stop -----------------------------------------------------
    def _session(self, action: str, appid: str, rid: str, sid: str, mode: str, body: Any) -> EmulatorResponse:
        resource = self.resources.get(rid)
        if resource is None:
            raise Rejected(1001, "failed to decode resource ID")
        if resource["appId"] != appid:
            raise Rejected(1003, "the App ID does not match the resource ID")
        rec = self.recordings.get(sid)
        if rec is not None and rec["resourceId"] != rid:
            raise Rejected(1003, "the sid does not match the resource ID")
        if rec is None or rec["phase"] in ("exited", "gone") or self.clock.now() > rec["expiresAt"]:
            raise Rejected(404, "failed to find worker", 404)
        same = isinstance(body, Mapping) and (body.get("cname"), body.get("uid")) == (rec["cname"], rec["uid"])
        if action != "query" and not same:
            raise Rejected(432, "cname or uid does not match the resource ID")
        if mode != rec["mode"]:
            raise Rejected(432, f"mode {mode} does not match the recording's mode {rec['mode']}")
        ids = {"resourceId": rid, "sid": sid}
        if action == "query":
            if rec["phase"] == "stopped":
                exiting = self.app_settings.get(appid, {}).get("exitSeconds", 0.0)
                if self.clock.now() - rec["endedAt"] < exiting:
                    raise Rejected(501, REASONS["501"])
                raise Rejected(404, "failed to find worker", 404)
            return EmulatorResponse.json(200, {**ids, "serverResponse": self._server_response(rec)})
        if rec["phase"] == "stopped":
            if action == "stop":
                raise Rejected(49, "stop repeated with this resource ID and sid")
            raise Rejected(404, "failed to find worker", 404)
        if rec["phase"] != "recording":
            raise Rejected(404, "failed to find worker", 404)
        request = body.get("clientRequest") if isinstance(body, Mapping) else None
        if action == "update":
            rec["subscription"] = check_update(rec["streamTypes"], request)
            rec["updates"] += 1
            return EmulatorResponse.json(200, ids)
        if action == "updateLayout":
            if rec["mode"] != "mix":
                raise Rejected(2, "updateLayout works in mix mode only")
            if not isinstance(request, Mapping):
                raise Rejected(1028, "clientRequest must be a JSON object")
            unknown = sorted(set(request) - {"maxResolutionUid", "mixedVideoLayout", "backgroundColor", "layoutConfig"})
            if unknown:
                raise Rejected(1028, f"unknown parameter {unknown[0]!r}")
            rec["layout"] = check_layout(request, "clientRequest", 1028)
            rec["layoutUpdates"] += 1
            return EmulatorResponse.json(200, ids)
        response = self._server_response(rec)
        response.pop("status", None)
        response.pop("sliceStartTime", None)
        response["uploadingStatus"] = "uploaded" if rec["published"] else "unknown"
        rec["phase"], rec["endedBy"], rec["endedAt"] = "stopped", "stop", self.clock.now()
        if not rec["published"]:
            return EmulatorResponse.json(206, {**ids, "serverResponse": response, "code": 435,
                                               "reason": "no recorded file: nobody published"})
        return EmulatorResponse.json(200, {**ids, "serverResponse": response})

    def _status(self, rec: Mapping[str, Any]) -> int:
        if rec["status"] is not None:
            return int(rec["status"])
        elapsed = self.clock.now() - rec["startedAt"]
        return 5 if rec["published"] and elapsed >= FIRST_SLICE_SECONDS else 4

    def _server_response(self, rec: Mapping[str, Any]) -> dict[str, Any]:
        status = self._status(rec)
        started_ms = int(rec["startedAt"] * 1000)
        if rec["output"] == "vod":
            state = "inProgress" if status == 5 else "idle"
            service = {20: "serviceAbnormal", 8: "serviceCompleted"}.get(status, "serviceInProgress")
            videos = [{"fileName": f"{rec['sid']}_{rec['cname']}.m3u8", "videoId": rec["sid"][::-1]}] \
                if status == 5 else []
            return {"extensionServiceState": [{"payload": {"state": state, "videoInfo": videos},
                                               "serviceName": "aliyun_vod_service"}],
                    "subServiceStatus": {"recordingService": service}}
        out: dict[str, Any] = {"status": status, "sliceStartTime": started_ms}
        if rec["output"] == "snapshot":
            return out
        uploaded = status >= 5
        if rec["mode"] == "mix":
            out.update(fileListMode="string", fileList=f"{rec['sid']}_{rec['cname']}.m3u8" if uploaded else "")
            return out
        files = []
        users = self._channel(rec["appId"], rec["cname"]).get("users", [])
        for medium in ("audio", "video"):
            chosen = rec["subscription"].get(medium)
            if chosen is None or not uploaded:
                continue
            listed = chosen.get("subscribe") or []
            uids = users if "#allstream#" in listed else listed if listed else \
                [u for u in users if u not in chosen.get("unsubscribe", [])]
            for uid in uids:
                files.append({"filename": f"{rec['sid']}_{rec['cname']}__uid_s_{uid}__uid_e_{medium}.m3u8",
                              "trackType": medium, "uid": uid, "mixedAllUser": False, "isPlayable": True,
                              "sliceStartTime": started_ms})
        out.update(fileListMode="json", fileList=sorted(files, key=lambda f: (f["uid"], f["trackType"])))
        return out

    # -- channels and idle exits ------------------------------------------------------------------
    def _channel(self, appid: str, cname: str) -> dict[str, Any]:
        return self.channels.setdefault((appid, cname), {"usersPresent": True, "since": self.clock.now(), "users": []})

    def _tick(self) -> None:
        """Let every recorder whose channel has been empty for maxIdleTime exit (lazy, by the clock)."""
        now = self.clock.now()
        for rec in self.recordings.values():
            if rec["phase"] != "recording":
                continue
            channel = self._channel(rec["appId"], rec["cname"])
            if channel["usersPresent"]:
                rec["published"] = True
                continue
            empty_since = max(channel["since"], rec["startedAt"])
            if now >= empty_since + rec["idleLimit"]:
                rec["phase"], rec["endedBy"], rec["endedAt"] = "exited", "maxIdleTime", empty_since + rec["idleLimit"]

    def control_extra(self, name: str, request: EmulatorRequest) -> EmulatorResponse | None:
        if name == "account" and request.method == "POST":
            return self._account_settings(request.json() or {})
        if name != "channels":
            return None
        self._tick()
        if request.method == "POST":
            try:
                body = request.json() or {}
                cname = str(body["cname"])
            except (ValueError, KeyError, TypeError):
                return EmulatorResponse.json(400, {"error": "expected {\"cname\": ..., \"usersPresent\": bool}"})
            appid = str(body.get("appId") or (self.accounts[0]["appId"] if self.accounts else ""))
            channel = self._channel(appid, cname)
            present = bool(body.get("usersPresent", True))
            if present != channel["usersPresent"]:
                channel["usersPresent"], channel["since"] = present, self.clock.now()
            if "users" in body:
                channel["users"] = [str(u) for u in body["users"]]
            self._tick()
        return EmulatorResponse.json(200, {"channels": [{"appId": a, "cname": c, **v}
                                                        for (a, c), v in sorted(self.channels.items())]})

    def _account_settings(self, body: Mapping[str, Any]) -> EmulatorResponse:
        appid = str(body.get("appId", ""))
        if appid not in {str(a.get("appId")) for a in self.accounts}:
            return EmulatorResponse.json(400, {"error": f"no App ID {appid!r}"})
        settings = self.app_settings.setdefault(appid, {"cloudRecording": True, "exitSeconds": 0.0})
        exit_seconds = body.get("exitSeconds", settings["exitSeconds"])
        if not isinstance(exit_seconds, (int, float)) or isinstance(exit_seconds, bool) or exit_seconds < 0:
            return EmulatorResponse.json(400, {"error": "exitSeconds must be a non-negative number"})
        settings.update(cloudRecording=bool(body.get("cloudRecording", settings["cloudRecording"])),
                        exitSeconds=float(exit_seconds))
        return EmulatorResponse.json(200, {"appId": appid, **settings})

    # -- shared control hooks ---------------------------------------------------------------------
    def state_snapshot(self) -> dict[str, Any]:
        self._tick()
        return {
            "recordings": [{**copy.deepcopy(rec), "status": self._status(rec) if rec["phase"] != "stopped" else None}
                           for rec in sorted(self.recordings.values(), key=lambda r: r["startedAt"])],
            "resources": [{k: v for k, v in r.items()} for r in self.resources.values()],
        }

    def drift(self, body: Mapping[str, Any]) -> dict[str, Any]:
        self._tick()
        rec = self.recordings.get(str(body.get("sid")))
        if rec is None:
            raise ValueError(f"no recording with sid {body.get('sid')!r}")
        if body.get("gone"):
            rec["phase"], rec["endedBy"] = "gone", "drift"
        elif body.get("exit"):
            status = int(body.get("status", 20))
            if status not in (8, 20):
                raise ValueError("an exit has status 20 (abnormal) or 8 (exiting)")
            rec["phase"], rec["status"], rec["endedBy"] = "failed" if status == 20 else "exiting", status, "drift"
        elif "status" in body:
            status = int(body["status"])
            if not 0 <= status <= 7:
                raise ValueError("status 0-7 (use exit for 8 and 20)")
            rec["status"] = status
        else:
            raise ValueError("expected gone, exit or status")
        return {"sid": rec["sid"], "phase": rec["phase"], "status": rec["status"]}

    def reset_tasks(self) -> None:
        self.resources.clear()
        self.recordings.clear()
        self.channels.clear()
        self.app_settings.clear()


def _masked(data: Any) -> Any:
    """A copy with credential values masked: the state view shows what was asked, never the keys."""
    if isinstance(data, Mapping):
        return {k: ("***" if k in SECRET_FIELDS and isinstance(v, str) else _masked(v)) for k, v in data.items()}
    if isinstance(data, list):
        return [_masked(v) for v in data]
    return data
