"""anyRTC cloud recording (Agora-compatible REST API): the `Recording` kind.

A recording is acquire -> start within 5 minutes -> (query | update | updateLayout)* -> stop. Its
handles are {resourceId, sid, cname, uid, mode}; the resource ID is saved the moment it is acquired
and the sid the moment start answers, so an interrupted apply always leaves state that names what
it may have started. Safety of retries rests on two vendor rules: one resource ID starts at most one
recording (a repeat answers 7), and one cname+uid records at most once (53). So a start whose answer
was lost is re-sent with the same resource ID, never with a new one; a 7 or 53 is never retried
blindly but resolved by observing. anyRTC cannot report the sid of a running recording, so when a
start's answer is lost after it took effect, the recording is reported as an orphan with what to do
(it cannot be queried or stopped without its sid).

Retries: code 65 (network jitter) with the same resource ID after 3 s then 6 s, as the vendor
advises; HTTP 429 and transport failures with the RetryPolicy's backoff.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from reconciler.errors import VendorConflict, VendorError, VendorNotFound
from reconciler.providers.base import BaseProvider, Handles, SaveHandles
from reconciler.ratelimit import RateLimit
from reconciler.records import Observation
from reconciler.secrets import REDACTOR, Secret, resolve
from reconciler.vendors.anyrtc.body import (
    acquire_body,
    identity,
    start_body,
    update_body,
    update_layout_body,
)
from reconciler.vendors.anyrtc.descriptor import DESCRIPTOR
from reconciler.vendors.anyrtc.errors import JITTER_DELAYS, jitter_delay, vendor_error

CALLS = "cloud_recording"  # the vendor's limit covers every call of an App ID together
STATUS = {
    0: "no recording started yet", 1: "initialised", 2: "recorder starting", 3: "uploader started",
    4: "recorder started", 5: "recording (first file uploaded)", 6: "stop received", 7: "all services stopped",
    8: "about to exit", 20: "exited abnormally (check storage keys, token and transcoding settings)",
}
RUNNING_SERVICE = {"serviceIdle", "serviceStarted", "serviceReady", "serviceInProgress"}


class AnyrtcProvider(BaseProvider):
    vendor: ClassVar[str] = "anyrtc"
    # the documented 10 requests/s per App ID (the pacer never lets arrivals bunch over it)
    RATE_LIMITS: ClassVar[dict[str, RateLimit]] = DESCRIPTOR.documented_rate_limits()
    MAX_ACQUIRES = 3  # the first resource ID, and one more per expiry (433)

    # -- protocol ---------------------------------------------------------------------------------
    def new_handles(self, kind: str, name: str, spec: Mapping[str, Any], generation: int) -> dict[str, str]:
        self._check_kind(kind, "new_handles")
        return {"cname": str(spec["channel"]), "uid": str(spec["recorderUid"]), "mode": str(spec["mode"])}

    def import_handles(self, kind: str, vendor_id: str) -> dict[str, str]:
        """`RESOURCE_ID:SID`, as anyRTC's start answered them; channel, uid and mode come from the manifest."""
        self._check_kind(kind, "import")
        resource_id, _, sid = vendor_id.strip().rpartition(":")
        if not resource_id or not sid:
            raise VendorError(self.vendor, "InvalidId", f"expected RESOURCE_ID:SID for a {kind}, got {vendor_id!r}",
                              transient=False, action="import")
        return {"resourceId": resource_id, "sid": sid}

    async def observe(self, kind: str, handles: Handles, spec: Mapping[str, Any] | None) -> Observation:
        self._check_kind(kind, "observe")
        current = dict(handles)
        if not current.get("sid"):
            if current.get("resourceId"):
                return Observation("unknown", detail="a resource ID was acquired but no sid recorded: an earlier "
                                   "start was interrupted; apply resolves it", handles=current)
            return Observation("absent", detail="never started", handles=current)
        try:
            data = await self.with_retry(lambda: self._call("query", "GET", self._path(current, "query")),
                                         "query", jitter_delay)
        except VendorNotFound:
            return Observation("inactive", detail="not recording: query answered 404 (stopped, failed to start, or "
                               "exited after maxIdleSeconds with nobody in the channel)", handles=current)
        except VendorError as exc:
            if exc.code == "501":
                return Observation("inactive", detail="the recording service is exiting (501)", handles=current)
            raise
        return observation_of(data.get("serverResponse") or {}, current)

    async def start(self, kind: str, handles: Handles, spec: Mapping[str, Any], save: SaveHandles) -> dict[str, str]:
        self._check_kind(kind, "start")
        current = {**dict(handles), **self.new_handles(kind, "", spec, 0)}
        previous = {k: current[k] for k in ("resourceId", "sid") if current.get(k)}
        if "sid" in previous:
            if (await self.observe(kind, current, spec)).status == "active":
                return current  # it runs: a repeated start must not start a second recording
            current.pop("sid")
            current.pop("resourceId", None)  # a resource ID starts one recording only: never reuse it
        pending = current.get("resourceId")  # acquired by an interrupted start, maybe never used
        body = start_body(current, spec, self._reveal)
        for _ in range(self.MAX_ACQUIRES):
            if pending is None:
                current["resourceId"] = await self._acquire(current, spec)
                save(dict(current))
            pending = None
            try:
                sid = await self._start_once(current, body)
            except VendorError as exc:
                if exc.code == "433":
                    self.ctx.events(f"start {current['cname']}: resource ID expired (433), acquiring a new one")
                    continue
                if exc.code in ("7", "53"):
                    return await self._resolve_conflict(kind, current, previous, spec, body, save, exc)
                raise
            current["sid"] = sid
            save(dict(current))
            return current
        raise VendorError(self.vendor, "433", "every acquired resource ID expired before start; check the clock and "
                          "latency to the anyRTC endpoint", action="start")

    async def update(self, kind: str, handles: Handles, spec: Mapping[str, Any],
                     groups: tuple[str, ...]) -> dict[str, str]:
        self._check_kind(kind, "update")
        current = self._running(handles, "update")
        for group in groups:
            if group == "subscribe":
                body = update_body(current, spec)
                await self._session_call("update", current, body)
            elif group == "layout":
                if current.get("mode", spec.get("mode")) != "mix":
                    raise self.unsupported("updateLayout in individual mode", kind)
                await self._session_call("updateLayout", current, update_layout_body(current, spec))
            else:
                raise self.unsupported(f"an in-place change of {group}", kind)
        return current

    async def stop(self, kind: str, handles: Handles, spec: Mapping[str, Any] | None) -> None:
        self._check_kind(kind, "stop")
        current = dict(handles)
        if not current.get("sid"):
            if not current.get("resourceId"):
                return  # nothing was ever started
            raise VendorConflict(self.vendor, "NoSid", orphan_message(current, spec, "stop"), action="stop")
        try:
            await self.with_retry(lambda: self._call("stop", "POST", self._path(current, "stop"),
                                                     {**identity(current), "clientRequest": {}}),
                                  "stop", jitter_delay)
        except VendorNotFound:
            return  # already gone: stopped, exited when idle, or never started
        except VendorConflict as exc:
            if exc.code != "49":  # 49: a repeated stop (an earlier one whose answer was lost)
                raise

    # -- vendor calls -----------------------------------------------------------------------------
    async def _acquire(self, handles: Mapping[str, str], spec: Mapping[str, Any]) -> str:
        data = await self.with_retry(lambda: self._call("acquire", "POST", "acquire", acquire_body(handles, spec)),
                                     "acquire", jitter_delay)
        return str(data["resourceId"])

    async def _start_once(self, handles: Mapping[str, str], body: Mapping[str, Any]) -> str:
        """Start with one resource ID, re-sending it (never a new one) while the failure is transient."""
        path = f"resourceid/{handles['resourceId']}/mode/{handles['mode']}/start"
        jitters = iter(JITTER_DELAYS)
        attempt = 1
        while True:
            try:
                data = await self._call("start", "POST", path, body)
                return str(data["sid"])
            except VendorError as exc:
                if exc.code == "65":
                    delay = next(jitters, None)
                    if delay is None:
                        raise
                elif exc.transient and attempt < self.ctx.retry.attempts:
                    delay = max(self.ctx.retry.delay(attempt), self.ctx.retry.base_delay)
                    attempt += 1
                else:
                    raise
                self.ctx.events(f"start {handles['cname']}: {exc.code} (transient), retry with the same resource "
                                f"ID in {delay:.1f}s")
                await self._sleep(delay)

    async def _resolve_conflict(self, kind: str, current: dict[str, str], previous: Mapping[str, str],
                                spec: Mapping[str, Any], body: Mapping[str, Any], save: SaveHandles,
                                exc: VendorError) -> dict[str, str]:
        """7: this resource ID already started a recording (an answer was lost); 53: some recording of
        this cname+uid runs. Observe what can be observed; start anew only when the vendor proves the
        earlier one is gone (a new resource ID with the same uid answers 53 while it runs)."""
        if "sid" in previous:
            earlier = {**current, **previous}
            if (await self.observe(kind, earlier, spec)).status == "active":
                save(earlier)
                return earlier  # the recording in state runs after all (a 404 during failover)
        if exc.code == "7":
            probe = {**current, "resourceId": await self._acquire(current, spec)}
            save(dict(probe))
            try:
                sid = await self._start_once(probe, body)
            except VendorError as again:
                if again.code == "53":
                    raise VendorConflict(self.vendor, "7", orphan_message(current, spec, "start"),
                                         action="start") from again
                raise
            probe["sid"] = sid
            save(dict(probe))
            return probe
        raise VendorConflict(self.vendor, "53", orphan_message(current, spec, "start", code="53"),
                             action="start") from exc

    async def _session_call(self, action: str, handles: Mapping[str, str], body: Mapping[str, Any]) -> None:
        try:
            await self.with_retry(lambda: self._call(action, "POST", self._path(handles, action), body),
                                  action, jitter_delay)
        except VendorNotFound as exc:
            raise VendorNotFound(self.vendor, exc.code, "the recording no longer runs (404); run plan again: it "
                                 "will be started anew", action=action, http_status=exc.http_status) from exc

    async def _call(self, action: str, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        await self.throttle(CALLS, self.ctx.app_id)
        url = f"{self.ctx.endpoint}/v1/apps/{self.ctx.app_id}/cloud_recording/{path}"
        headers = {"Authorization": self._authorization(), "Content-Type": "application/json;charset=utf-8"}
        content = json.dumps(body).encode() if body is not None else None
        response: httpx.Response = await self.send(
            action, lambda: self.ctx.client.request(method, url, content=content, headers=headers))
        if response.status_code in (200, 201, 206):
            try:
                data = response.json()
            except ValueError:
                data = {}
            return data if isinstance(data, dict) else {}
        raise vendor_error(self.vendor, action, response, self.ctx.name, self.ctx.app_id)

    # -- helpers ----------------------------------------------------------------------------------
    def _check_kind(self, kind: str, action: str) -> None:
        if kind != "Recording":
            raise VendorError(self.vendor, "Unsupported", f"anyRTC runs cloud recordings only (kind Recording); a "
                              f"{kind} cannot use an anyrtc provider", transient=False, action=action)

    def _path(self, handles: Mapping[str, str], action: str) -> str:
        return f"resourceid/{handles['resourceId']}/sid/{handles['sid']}/mode/{handles.get('mode', 'mix')}/{action}"

    def _running(self, handles: Handles, action: str) -> dict[str, str]:
        current = dict(handles)
        if not current.get("sid") or not current.get("resourceId"):
            raise VendorNotFound(self.vendor, "NoSid", "the state holds no sid for this recording, so it cannot be "
                                 "changed; run plan again", action=action)
        return current

    def _authorization(self) -> str:
        pair = f"{self.secret('customerId').reveal()}:{self.secret('customerSecret').reveal()}"
        REDACTOR.add([Secret(pair, "basic-auth")])  # the header as a whole is a credential too
        return "Basic " + base64.b64encode(pair.encode()).decode()

    def _reveal(self, reference: Mapping[str, str], what: str) -> str:
        secret = resolve(reference, owner=f"Provider/{self.ctx.name} recording {what}", access=self.ctx.secrets)
        REDACTOR.add([secret])
        return secret.reveal()

    async def _sleep(self, seconds: float) -> None:
        if self.ctx.sleep is not None:
            await self.ctx.sleep(seconds)
        else:
            import asyncio

            await asyncio.sleep(seconds)


def observation_of(server: Mapping[str, Any], handles: Mapping[str, str]) -> Observation:
    """query's serverResponse as an Observation: status 0-5 runs; 6, 7, 8 and 20 do not."""
    if "status" not in server and "subServiceStatus" in server:  # Aliyun VoD recordings
        service = str((server.get("subServiceStatus") or {}).get("recordingService", ""))
        running = service in RUNNING_SERVICE
        return Observation("active" if running else "inactive", detail=f"recording service {service}",
                           handles=dict(handles))
    try:
        status = int(server.get("status", -1))
    except (TypeError, ValueError):
        status = -1
    if status not in STATUS:
        return Observation("unknown", detail=f"unexpected status {server.get('status')!r}", handles=dict(handles))
    running = status <= 5
    return Observation("active" if running else "inactive", detail=f"status {status}: {STATUS[status]}",
                       handles=dict(handles))


def orphan_message(handles: Mapping[str, str], spec: Mapping[str, Any] | None, action: str,
                   code: str = "7") -> str:
    """What to do about a recording that runs but cannot be named (no sid): 7 knows its resource ID,
    53 knows only that this cname+uid records."""
    idle = (spec or {}).get("maxIdleSeconds", 30)
    where = f"channel {handles.get('cname')!r}, uid {handles.get('uid')}"
    if code == "7":
        cause = f"a start whose answer was lost took effect ({where}, resource ID {handles.get('resourceId')})"
        support = "ask anyRTC support to stop the recording of that resource ID"
    else:
        cause = f"a recording of this channel with this uid runs that the state does not name ({where})"
        support = f"ask anyRTC support to stop the recording of uid {handles.get('uid')} in that channel"
    return (f"cannot {action}: {cause}. anyRTC cannot report its sid, so it cannot be queried or stopped through "
            f"the API. It ends by itself once the channel has been empty for {idle} s: run apply again after that, "
            f"or {support}. If another tool records with this uid, give this Recording a different recorderUid.")
