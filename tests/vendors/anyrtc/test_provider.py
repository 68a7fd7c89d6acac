"""AnyrtcProvider against the anyRTC emulator over loopback: the recording lifecycle, retries,
interrupted starts, drift, and secrets kept out of state, plans and messages."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from reconciler.emulator.cluster import EmulatorCluster
from reconciler.errors import VendorAuthError, VendorConflict, VendorError, VendorNotFound, VendorUnavailable
from reconciler.model import load_manifests
from reconciler.model.provider import ProviderSpec
from reconciler.plan import Action, make_plan
from reconciler.providers.base import ProviderContext
from reconciler.ratelimit import RateLimiter
from reconciler.records import Intent, Observation, ResourceRecord
from reconciler.retry import RetryPolicy
from reconciler.state.sqlite import SqliteState
from reconciler.vendors.anyrtc.emulator import AnyrtcEmulator
from reconciler.vendors.anyrtc.provider import AnyrtcProvider
from tests.conftest import REPO, control

T = TypeVar("T")
DESIRED = {d.name: d for d in load_manifests([REPO / "examples" / "anyrtc"]).desired()}
TOWNHALL = dict(DESIRED["townhall-archive"].spec)
SNAPSHOTS = dict(DESIRED["classroom-snapshots"].spec)
VOD = dict(DESIRED["webinar-vod"].spec)
FAST = RetryPolicy(attempts=4, base_delay=0.01, jitter=0)
SECRETS = [v for k, v in AnyrtcEmulator.DEMO_ENV.items() if "SECRET" in k or "ACCESS_KEY" in k]
SPEC = ProviderSpec.model_validate({"vendor": "anyrtc", "appId": "demo-anyrtc-app", "credentials": {
    "customerId": {"env": "ANYRTC_CUSTOMER_ID"}, "customerSecret": {"env": "ANYRTC_CUSTOMER_SECRET"}}})


@pytest.fixture
def anyrtc(vendors: EmulatorCluster) -> EmulatorCluster:
    control(vendors, "anyrtc", "limits", {"action": "cloud_recording", "perSecond": 1000})
    return vendors


class Recorder:
    """What a scenario saw: saved handles, sleeps asked for, retry events."""

    def __init__(self) -> None:
        self.saved: list[dict[str, str]] = []
        self.sleeps: list[float] = []
        self.events: list[str] = []

    def save(self, handles: Any) -> None:
        self.saved.append(dict(handles))

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def run(vendors: EmulatorCluster, scenario: Callable[[AnyrtcProvider], Awaitable[T]], seen: Recorder | None = None,
        *, spec: ProviderSpec = SPEC, timeout: float = 5) -> T:
    seen = seen or Recorder()

    async def main() -> T:
        async with httpx.AsyncClient(timeout=timeout) as client:
            ctx = ProviderContext(name="anyrtc-demo", spec=spec, endpoint=vendors.endpoints["anyrtc"], client=client,
                                  limiter=RateLimiter(clock=itertools.count(0, 10).__next__), retry=FAST,
                                  sleep=seen.sleep, events=seen.events.append)
            return await scenario(AnyrtcProvider(ctx))

    return asyncio.run(main())


def fresh(spec: dict[str, Any] = TOWNHALL) -> dict[str, str]:
    return {"cname": spec["channel"], "uid": spec["recorderUid"], "mode": spec["mode"]}


def begin(vendors: EmulatorCluster, spec: dict[str, Any] = TOWNHALL, seen: Recorder | None = None) -> dict[str, str]:
    seen = seen or Recorder()
    return run(vendors, lambda p: p.start("Recording", fresh(spec), spec, seen.save), seen)


def log(vendors: EmulatorCluster) -> list[dict[str, Any]]:
    return list(control(vendors, "anyrtc", "requests")["log"])


def actions(vendors: EmulatorCluster) -> list[tuple[str, str]]:
    return [(e["action"], e["outcome"]) for e in log(vendors)]


def recordings(vendors: EmulatorCluster) -> list[dict[str, Any]]:
    return list(control(vendors, "anyrtc", "state")["tasks"]["recordings"])


def observe(vendors: EmulatorCluster, handles: dict[str, str], spec: dict[str, Any] = TOWNHALL) -> Observation:
    return run(vendors, lambda p: p.observe("Recording", handles, spec))


def test_create_saves_the_resource_id_then_the_sid_and_sends_the_whole_config(anyrtc: EmulatorCluster) -> None:
    seen = Recorder()
    handles = begin(anyrtc, seen=seen)
    assert [sorted(s) for s in seen.saved] == [["cname", "mode", "resourceId", "uid"],
                                               ["cname", "mode", "resourceId", "sid", "uid"]]
    assert seen.saved[1] == handles and handles["cname"] == "townhall" and handles["uid"] == "900001"
    assert actions(anyrtc) == [("acquire", "ok"), ("start", "ok")]
    acquire, start = log(anyrtc)
    assert acquire["body"] == {"cname": "townhall", "uid": "900001", "clientRequest": {"resourceExpiredHour": 72}}
    assert start["path"].endswith(f"/resourceid/{handles['resourceId']}/mode/mix/start")
    request = start["body"]["clientRequest"]
    assert request["recordingConfig"] == {
        "channelType": 0, "streamTypes": 2, "videoStreamType": 0, "maxIdleTime": 60,
        "subscribeAudioUids": ["#allstream#"], "subscribeVideoUids": ["1001", "1002", "1003"], "audioProfile": 0,
        "transcodingConfig": {"width": 1280, "height": 720, "fps": 15, "bitrate": 1200, "mixedVideoLayout": 3,
                              "backgroundColor": "#101820", "layoutConfig": [
                                  {"uid": "1001", "x_axis": 0.0, "y_axis": 0.0, "width": 0.75, "height": 1.0,
                                   "alpha": 1.0, "render_mode": 0},
                                  {"uid": "1002", "x_axis": 0.75, "y_axis": 0.0, "width": 0.25, "height": 0.5,
                                   "alpha": 1.0, "render_mode": 1},
                                  {"x_axis": 0.75, "y_axis": 0.5, "width": 0.25, "height": 0.5, "alpha": 1.0,
                                   "render_mode": 0}]}}
    assert request["storageConfig"] == {"vendor": 1, "region": 0, "bucket": "townhall-recordings",
                                        "accessKey": "demo-storage-access-key",
                                        "secretKey": "demo-storage-secret-key-9d21",
                                        "fileNamePrefix": ["townhall", "archive"]}
    assert request["recordingFileConfig"] == {"avFileType": ["hls"]}
    assert start["body"]["uid"] == "900001"


def test_snapshot_and_vod_recordings_start_with_their_own_configs(anyrtc: EmulatorCluster) -> None:
    begin(anyrtc, SNAPSHOTS)
    begin(anyrtc, VOD)
    starts = [e["body"]["clientRequest"] for e in log(anyrtc) if e["action"] == "start"]
    assert starts[0]["snapshotConfig"] == {"captureInterval": 30, "fileType": ["jpg"]}
    assert starts[0]["recordingConfig"]["subscribeUidGroup"] == 0 and "recordingFileConfig" not in starts[0]
    service = starts[1]["extensionServiceConfig"]["extensionServices"][0]
    assert service["serviceParam"]["secretKey"] == "demo-vod-secret-key-5b80" and "storageConfig" not in starts[1]
    assert [r["output"] for r in recordings(anyrtc)] == ["snapshot", "vod"]


def test_observe_is_read_only_and_maps_status(anyrtc: EmulatorCluster) -> None:
    handles = begin(anyrtc)
    first = observe(anyrtc, handles)
    assert (first.status, first.detail, dict(first.fields)) == ("active", "status 4: recorder started", {})
    control(anyrtc, "anyrtc", "clock", {"advance": 10})
    assert observe(anyrtc, handles).detail == "status 5: recording (first file uploaded)"
    assert [a for a, _ in actions(anyrtc)] == ["acquire", "start", "query", "query"]
    control(anyrtc, "anyrtc", "drift", {"sid": handles["sid"], "status": 6})
    assert (observe(anyrtc, handles).status, observe(anyrtc, handles).detail) == ("inactive", "status 6: stop received")
    control(anyrtc, "anyrtc", "drift", {"sid": handles["sid"], "exit": True})
    assert observe(anyrtc, handles).detail == ("status 20: exited abnormally (check storage keys, token and "
                                               "transcoding settings)")
    vod = begin(anyrtc, VOD)
    assert observe(anyrtc, vod, VOD).detail == "recording service serviceInProgress"
    control(anyrtc, "anyrtc", "drift", {"sid": vod["sid"], "exit": True})
    assert (observe(anyrtc, vod, VOD).status, observe(anyrtc, vod, VOD).detail) == (
        "inactive", "recording service serviceAbnormal")
    assert observe(anyrtc, fresh()).status == "absent"


def test_subscription_update_sends_both_lists_and_overwrites(anyrtc: EmulatorCluster) -> None:
    handles = begin(anyrtc)
    changed = {**TOWNHALL, "subscribe": {"audio": {"unsubscribe": ["9"]}, "video": {"subscribe": ["1001"]}}}
    assert run(anyrtc, lambda p: p.update("Recording", handles, changed, ("subscribe",))) == handles
    [update] = [e for e in log(anyrtc) if e["action"] == "update"]
    assert update["body"]["clientRequest"] == {"streamSubscribe": {
        "audioUidList": {"unSubscribeAudioUids": ["9"]}, "videoUidList": {"subscribeVideoUids": ["1001"]}}}
    assert recordings(anyrtc)[0]["subscription"] == {"audio": {"unsubscribe": ["9"]},
                                                     "video": {"subscribe": ["1001"]}}


def test_layout_update_sends_the_full_layout(anyrtc: EmulatorCluster) -> None:
    handles = begin(anyrtc)
    preset = {**TOWNHALL, "layout": {"type": "vertical", "background": "#FFFFFF", "maxResolutionUid": "1001"}}
    run(anyrtc, lambda p: p.update("Recording", handles, preset, ("layout",)))
    assert recordings(anyrtc)[0]["layout"] == {"mixedVideoLayout": 2, "backgroundColor": "#FFFFFF",
                                               "layoutConfig": None, "maxResolutionUid": "1001"}
    run(anyrtc, lambda p: p.update("Recording", handles, TOWNHALL, ("layout",)))
    layout = recordings(anyrtc)[0]["layout"]
    assert (layout["mixedVideoLayout"], layout["backgroundColor"], len(layout["layoutConfig"])) == (3, "#101820", 3)
    assert recordings(anyrtc)[0]["layoutUpdates"] == 2


def test_plan_uses_update_groups_and_replaces_other_changes(anyrtc: EmulatorCluster) -> None:
    desired = DESIRED["townhall-archive"]
    record = ResourceRecord(address=desired.address, kind="Recording", name=desired.name, provider="anyrtc-demo",
                            vendor="anyrtc", handles={"sid": "s", "resourceId": "r"}, generation=1,
                            last_applied=TOWNHALL, lifecycle="active")
    live = {desired.address: Observation("active")}

    def plan_for(**changes: Any) -> Any:
        changed = dataclasses.replace(desired, spec={**TOWNHALL, **changes})
        [change] = make_plan([changed], {desired.address: record}, live, state_serial=1, manifest_fingerprint="f",
                             created_at="t").changes
        return change

    update = plan_for(subscribe={"audio": {"subscribe": "all"}, "video": {"subscribe": "all"}},
                      layout={"type": "adaptive", "background": "#000000"})
    assert (update.action, update.verb, update.update_groups) == (
        Action.UPDATE, "update-layout+update-subscriptions", ("layout", "subscribe"))
    replace = plan_for(storage={**TOWNHALL["storage"], "bucket": "other"})
    assert replace.action is Action.REPLACE and replace.reasons == (
        "storage cannot be changed on a running Recording at anyrtc; it will be stopped and started anew",)
    assert plan_for(transcoding={**TOWNHALL["transcoding"], "width": 640}).action is Action.REPLACE


def test_replace_is_stop_then_start_anew(anyrtc: EmulatorCluster) -> None:
    old = begin(anyrtc)
    run(anyrtc, lambda p: p.stop("Recording", old, TOWNHALL))
    new = begin(anyrtc, {**TOWNHALL, "maxIdleSeconds": 120})
    assert new["sid"] != old["sid"] and new["resourceId"] != old["resourceId"]
    assert [(r["sid"], r["phase"]) for r in recordings(anyrtc)] == [(old["sid"], "stopped"), (new["sid"], "recording")]


def test_stop_then_stopped_and_repeated_stops_are_quiet(anyrtc: EmulatorCluster) -> None:
    handles = begin(anyrtc)
    run(anyrtc, lambda p: p.stop("Recording", handles, TOWNHALL))
    gone = observe(anyrtc, handles)
    assert (gone.status, gone.detail) == ("inactive", ("not recording: query answered 404 (stopped, failed to start, "
                                                      "or exited after maxIdleSeconds with nobody in the channel)"))
    run(anyrtc, lambda p: p.stop("Recording", handles, TOWNHALL))  # 49: already stopped
    control(anyrtc, "anyrtc", "drift", {"sid": handles["sid"], "gone": True})
    run(anyrtc, lambda p: p.stop("Recording", handles, TOWNHALL))  # 404: gone
    assert [o for a, o in actions(anyrtc) if a == "stop"] == ["ok", "error:49", "error:404"]
    with pytest.raises(VendorNotFound) as caught:
        run(anyrtc, lambda p: p.update("Recording", handles, TOWNHALL, ("subscribe",)))
    assert str(caught.value) == ("anyrtc update failed: 404: the recording no longer runs (404); run plan again: it "
                                 "will be started anew")


def test_expired_resource_id_is_replaced_by_a_new_one(anyrtc: EmulatorCluster) -> None:
    seen = Recorder()
    pending = run(anyrtc, lambda p: p._acquire(fresh(), TOWNHALL))  # an interrupted run acquired it
    control(anyrtc, "anyrtc", "clock", {"advance": 301})
    handles = run(anyrtc, lambda p: p.start("Recording", {**fresh(), "resourceId": pending}, TOWNHALL, seen.save),
                  seen)
    assert handles["resourceId"] != pending and handles["sid"]
    assert [(a, o) for a, o in actions(anyrtc)] == [("acquire", "ok"), ("start", "error:433"), ("acquire", "ok"),
                                                    ("start", "ok")]
    assert seen.events == ["start townhall: resource ID expired (433), acquiring a new one"]


def test_idle_exit_is_seen_as_not_recording_and_planned_as_drift(anyrtc: EmulatorCluster) -> None:
    handles = begin(anyrtc)
    control(anyrtc, "anyrtc", "channels", {"cname": "townhall", "usersPresent": False})
    control(anyrtc, "anyrtc", "clock", {"advance": 60})
    seen = observe(anyrtc, handles)
    assert seen.status == "inactive"
    record = ResourceRecord(address="Recording/townhall-archive", kind="Recording", name="townhall-archive",
                            provider="anyrtc-demo", vendor="anyrtc", handles=handles, generation=1,
                            last_applied=TOWNHALL, lifecycle="active")
    [change] = make_plan([DESIRED["townhall-archive"]], {record.address: record}, {record.address: seen},
                         state_serial=1, manifest_fingerprint="f", created_at="t").changes
    assert change.action is Action.CREATE and change.drift and change.verb == "start-recording"
    repaired = run(anyrtc, lambda p: p.start("Recording", handles, TOWNHALL, lambda _h: None))
    assert repaired["sid"] != handles["sid"] and recordings(anyrtc)[-1]["phase"] == "recording"


def test_code_65_is_retried_with_the_same_resource_id_after_3_then_6_seconds(anyrtc: EmulatorCluster) -> None:
    control(anyrtc, "anyrtc", "faults", {"action": "start", "code": "65", "count": 2})
    seen = Recorder()
    handles = begin(anyrtc, seen=seen)
    starts = [e["path"] for e in log(anyrtc) if e["action"] == "start"]
    assert len(starts) == 3 and len(set(starts)) == 1 and handles["resourceId"] in starts[0]
    assert seen.sleeps == [3.0, 6.0] and len(recordings(anyrtc)) == 1
    assert seen.events[0] == "start townhall: 65 (transient), retry with the same resource ID in 3.0s"
    control(anyrtc, "anyrtc", "reset", {})
    control(anyrtc, "anyrtc", "limits", {"action": "cloud_recording", "perSecond": 1000})
    control(anyrtc, "anyrtc", "faults", {"action": "start", "code": "65", "count": 3})
    with pytest.raises(VendorUnavailable) as caught:
        begin(anyrtc)
    assert caught.value.code == "65" and recordings(anyrtc) == []


def test_429_is_retried_with_backoff(anyrtc: EmulatorCluster) -> None:
    handles = begin(anyrtc)
    control(anyrtc, "anyrtc", "faults", {"action": "query", "status": 429, "count": 2})
    seen = Recorder()
    assert run(anyrtc, lambda p: p.observe("Recording", handles, TOWNHALL), seen).status == "active"
    assert seen.sleeps == [0.01, 0.02]
    assert [o for a, o in actions(anyrtc) if a == "query"] == ["fault:429", "fault:429", "ok"]
    assert seen.events == ["query: 429 (transient), retry 1 in 0.0s", "query: 429 (transient), retry 2 in 0.0s"]


def test_lost_start_answer_is_reported_as_an_orphan_never_a_second_recording(anyrtc: EmulatorCluster) -> None:
    control(anyrtc, "anyrtc", "faults", {"action": "start", "type": "lost-response", "count": 1})
    seen = Recorder()
    with pytest.raises(VendorConflict) as caught:
        run(anyrtc, lambda p: p.start("Recording", fresh(), TOWNHALL, seen.save), seen, timeout=2)
    [running] = recordings(anyrtc)
    first = seen.saved[0]["resourceId"]
    assert running["resourceId"] == first and running["phase"] == "recording"
    assert [a for a, _ in actions(anyrtc)] == ["acquire", "start", "start", "acquire", "start"]
    assert [o for a, o in actions(anyrtc) if a == "start"] == ["ok", "error:7", "error:53"]
    assert str(caught.value) == (
        f"anyrtc start failed: 7: cannot start: a start whose answer was lost took effect (channel 'townhall', uid "
        f"900001, resource ID {first}). anyRTC cannot report its sid, so it cannot be queried or stopped through the "
        "API. It ends by itself once the channel has been empty for 60 s: run apply again after that, or ask anyRTC "
        "support to stop the recording of that resource ID. If another tool records with this uid, give this "
        "Recording a different recorderUid.")
    assert all("sid" not in s for s in seen.saved)
    # once the orphan has exited, the next apply starts a recording the state can name
    control(anyrtc, "anyrtc", "channels", {"cname": "townhall", "usersPresent": False})
    control(anyrtc, "anyrtc", "clock", {"advance": 60})
    control(anyrtc, "anyrtc", "channels", {"cname": "townhall", "usersPresent": True})
    later = run(anyrtc, lambda p: p.start("Recording", seen.saved[-1], TOWNHALL, seen.save), seen)
    assert later["sid"] and [r["phase"] for r in recordings(anyrtc)] == ["exited", "recording"]


def test_a_start_that_never_arrived_is_resent_with_the_same_resource_id(anyrtc: EmulatorCluster) -> None:
    control(anyrtc, "anyrtc", "faults", {"action": "start", "type": "timeout", "seconds": 0.5, "count": 1})
    seen = Recorder()
    handles = run(anyrtc, lambda p: p.start("Recording", fresh(), TOWNHALL, seen.save), seen, timeout=0.2)
    assert [a for a, _ in actions(anyrtc)] == ["acquire", "start", "start"]
    assert [o for a, o in actions(anyrtc) if a == "start"] == ["fault:timeout", "ok"]
    assert [r["sid"] for r in recordings(anyrtc)] == [handles["sid"]] and seen.saved[-1] == handles


def test_53_with_the_recording_of_the_state_alive_adopts_it(anyrtc: EmulatorCluster) -> None:
    handles = begin(anyrtc)
    control(anyrtc, "anyrtc", "faults", {"action": "query", "code": "404", "count": 1})  # failover: a brief 404
    adopted = run(anyrtc, lambda p: p.start("Recording", handles, TOWNHALL, lambda _h: None))
    assert adopted == handles and len(recordings(anyrtc)) == 1
    assert [o for a, o in actions(anyrtc) if a == "start"] == ["ok", "error:53"]


def test_a_foreign_recording_with_the_same_uid_is_a_conflict(anyrtc: EmulatorCluster) -> None:
    begin(anyrtc)
    with pytest.raises(VendorConflict) as caught:
        begin(anyrtc)
    assert caught.value.code == "53" and "a recording of this channel with this uid runs that the state does not " \
        "name" in str(caught.value)
    assert len(recordings(anyrtc)) == 1


def test_secrets_stay_out_of_state_plans_events_and_errors(anyrtc: EmulatorCluster, tmp_path: Path) -> None:
    seen = Recorder()
    desired = DESIRED["townhall-archive"]
    store = SqliteState(tmp_path / "state.db")
    record = ResourceRecord(address=desired.address, kind="Recording", name=desired.name, provider="anyrtc-demo",
                            vendor="anyrtc")
    store.record_intent(record, Intent("create", fresh(), desired.spec, "active", 1, "now"))
    control(anyrtc, "anyrtc", "faults", {"action": "start", "code": "65", "count": 1})
    handles = run(anyrtc, lambda p: p.start("Recording", fresh(), desired.spec,
                                            lambda h: store.save_handles(desired.address, h)), seen)
    store.record_outcome(desired.address, handles=handles, generation=1, last_applied=desired.spec, lifecycle="active")
    store.close()
    stored = (tmp_path / "state.db").read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("state.db-*"))
    assert b"ANYRTC_STORAGE_SECRET_KEY" in stored and handles["sid"].encode() in stored
    plan = make_plan([desired], {}, {}, state_serial=0, manifest_fingerprint="f", created_at="t")
    texts = [stored.decode("utf-8", "replace"), repr(plan), *seen.events]
    control(anyrtc, "anyrtc", "faults", {"action": "start", "code": "2", "message": "storageConfig refused"})
    with pytest.raises(VendorError) as caught:
        begin(anyrtc, {**TOWNHALL, "channel": "other"})
    texts.append(str(caught.value))
    for secret in SECRETS:
        assert all(secret not in text for text in texts), secret


def test_wrong_credentials_and_kinds_have_actionable_errors(anyrtc: EmulatorCluster,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYRTC_CUSTOMER_SECRET", "not-the-secret")
    with pytest.raises(VendorAuthError) as caught:
        begin(anyrtc)
    assert str(caught.value) == ("anyrtc acquire failed: 401: Invalid authentication credentials: check "
                                 "customerId/customerSecret of Provider/anyrtc-demo, that App ID demo-anyrtc-app "
                                 "belongs to that customer and that cloud recording is enabled for it in the anyRTC "
                                 "console")
    with pytest.raises(VendorError) as unsupported:
        run(anyrtc, lambda p: p.observe("MixTask", {}, None))
    assert str(unsupported.value) == ("anyrtc observe failed: Unsupported: anyRTC runs cloud recordings only (kind "
                                      "Recording); a MixTask cannot use an anyrtc provider")
