"""TencentProvider against the Tencent emulator: set_mix_stream layouts, resume, stop, errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from reconciler.apply.executor import execute_plan
from reconciler.emulator.cluster import EmulatorCluster
from reconciler.errors import VendorError, VendorUnavailable
from reconciler.model import load_manifests
from reconciler.model.provider import ProviderSpec
from reconciler.plan import Action, make_plan
from reconciler.providers.base import ProviderContext
from reconciler.records import Observation
from reconciler.retry import RetryPolicy
from reconciler.state.sqlite import SqliteState
from reconciler.vendors.tencent.emulator import MESSAGES as EMULATOR_MESSAGES
from reconciler.vendors.tencent.emulator import TencentEmulator
from reconciler.vendors.tencent.errors import CODES
from reconciler.vendors.tencent.provider import REQUEST_TIMEOUT, UNOBSERVABLE, TencentProvider, mix_request
from reconciler.vendors.tencent.usersig import verify
from tests.cli.helpers import copy_example, reconciler
from tests.conftest import REPO, control

T = TypeVar("T")
APP = TencentEmulator.DEMO_ACCOUNTS[0]
DESIRED = {d.name: d for d in load_manifests([REPO / "examples" / "tencent"]).desired()}
WEBINAR = dict(DESIRED["webinar-mix"].spec)
FAST = RetryPolicy(attempts=3, base_delay=0.01, jitter=0)
HANDLES = {"roomId": "webinar"}


async def no_sleep(_seconds: float) -> None:
    return None


def provider_spec() -> ProviderSpec:
    return ProviderSpec.model_validate({"vendor": "tencent", "appId": str(APP["sdkAppId"]), "admin": APP["admin"],
                                        "credentials": {"key": {"env": "TENCENT_SECRET_KEY"}}})


def context(client: httpx.AsyncClient, endpoint: str, events: list[str] | None = None) -> ProviderContext:
    return ProviderContext(name="tencent-demo", spec=provider_spec(), endpoint=endpoint, client=client, retry=FAST,
                           sleep=no_sleep, events=(events if events is not None else []).append)


def run(vendors: EmulatorCluster, scenario: Callable[[TencentProvider], Awaitable[T]],
        events: list[str] | None = None) -> T:
    async def main() -> T:
        async with httpx.AsyncClient(timeout=5) as client:
            return await scenario(TencentProvider(context(client, vendors.endpoints["tencent"], events)))

    return asyncio.run(main())


def log(vendors: EmulatorCluster) -> list[dict[str, Any]]:
    return list(control(vendors, "tencent", "requests")["log"])


def mix(vendors: EmulatorCluster, room: str = "webinar") -> dict[str, Any]:
    return dict(control(vendors, "tencent", "state")["tasks"]["mixes"][room])


def test_custom_layout_in_pixels_with_z_order_and_screen_streams() -> None:
    assert mix_request(WEBINAR) == {
        "RoomId": "webinar", "LayoutMode": 1000, "VideoEncode": {"Width": 1280, "Height": 720},
        "LayoutInfo": {"LayoutList": [
            {"LocationX": 0, "LocationY": 0, "ImageWidth": 1280, "ImageHeight": 720, "RoomId": "webinar",
             "Member_Account": "presenter", "StreamType": 1, "ZOrder": 0},
            {"LocationX": 960, "LocationY": 504, "ImageWidth": 320, "ImageHeight": 216, "RoomId": "webinar",
             "Member_Account": "speaker", "StreamType": 0, "ZOrder": 1}]}}
    anonymous = {**WEBINAR["layout"], "panes": [{**p, "user": None} for p in WEBINAR["layout"]["panes"]]}
    assert mix_request({**WEBINAR, "layout": anonymous, "output": {"encoding": "540p"}}) == {
        "RoomId": "webinar", "LayoutMode": 0, "VideoEncode": {"Width": 960, "Height": 540}}


def test_start_update_stop_as_the_emulator_records_them(vendors: EmulatorCluster) -> None:
    small = {**WEBINAR, "layout": {**WEBINAR["layout"], "panes": [WEBINAR["layout"]["panes"][0]]}}

    async def scenario(p: TencentProvider) -> list[Observation]:
        assert await p.start("MixTask", HANDLES, WEBINAR, lambda _h: None) == HANDLES
        seen = [await p.observe("MixTask", HANDLES, WEBINAR)]
        await p.update("MixTask", HANDLES, small, ("layout",))
        seen.append(await p.observe("MixTask", HANDLES, small))
        return seen

    seen = run(vendors, scenario)
    assert [(o.status, o.detail) for o in seen] == [("unknown", UNOBSERVABLE)] * 2
    assert UNOBSERVABLE == "Tencent has no call that reads an MCU mix back; compared with the last applied state"
    state = mix(vendors)
    assert (state["layoutMode"], state["updates"], [i["Member_Account"] for i in state["layoutList"]]) == (
        1000, 1, ["presenter"])
    run(vendors, lambda p: p.stop("MixTask", HANDLES, small))
    assert (mix(vendors)["layoutMode"], mix(vendors)["layoutList"]) == (0, [])  # handed back to the nine-grid
    first = log(vendors)[0]
    params = first["params"]
    assert (first["method"], first["path"]) == ("POST", "/v4/live_engine_http_srv/set_mix_stream")
    assert (params["sdkappid"], params["identifier"], params["contenttype"]) == ("1400000001", "administrator", "json")
    assert 0 <= int(params["random"]) < 2**32
    assert verify(params["usersig"], 1400000001, str(APP["key"]), now=int(first["time"])).identifier == "administrator"
    assert first["body"] == mix_request(WEBINAR)
    assert [e["body"] for e in log(vendors)][-1] == {"RoomId": "webinar", "LayoutMode": 0}


def test_stop_of_a_dissolved_room_counts_as_stopped(vendors: EmulatorCluster) -> None:
    control(vendors, "tencent", "rooms", {"roomId": "webinar", "exists": False})
    events: list[str] = []
    run(vendors, lambda p: p.stop("MixTask", HANDLES, WEBINAR), events)
    assert events == ["room webinar no longer exists at Tencent, so nothing mixes it"]


def test_resume_calls_resume_mcu_task_and_restarts_a_missing_task(vendors: EmulatorCluster) -> None:
    run(vendors, lambda p: p.start("MixTask", HANDLES, WEBINAR, lambda _h: None))
    control(vendors, "tencent", "drift", {"roomId": "webinar", "status": "paused"})
    run(vendors, lambda p: p.resume("MixTask", HANDLES, WEBINAR))
    assert (mix(vendors)["status"], mix(vendors)["resumes"]) == ("running", 1)
    assert log(vendors)[-1]["body"] == {"RoomId": "webinar"}

    control(vendors, "tencent", "drift", {"roomId": "webinar", "remove": True})
    events: list[str] = []
    run(vendors, lambda p: p.resume("MixTask", HANDLES, WEBINAR), events)
    assert events == ["room webinar had no mix task to resume; setting its layout starts it again"]
    assert [(e["action"], e["outcome"]) for e in log(vendors)[-2:]] == [
        ("resume_mcu_task", "error:100424"), ("set_mix_stream", "ok")]
    assert mix(vendors)["layoutMode"] == 1000


def test_resume_token_change_resumes_through_plan_and_apply(vendors: EmulatorCluster, tmp_path: Any) -> None:
    store = SqliteState(tmp_path / "state.db")
    first = DESIRED["webinar-mix"]

    async def apply(desired: Any) -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            provider = TencentProvider(context(client, vendors.endpoints["tencent"]))
            records = store.records()
            observations = {a: await provider.observe(r.kind, r.handles, r.last_applied) for a, r in records.items()}
            plan = make_plan([desired], records, observations, state_serial=store.serial(),
                             manifest_fingerprint="f", created_at="now")
            actions.append([c.action for c in plan.changes])
            result = await execute_plan(plan, store, {"tencent-demo": provider})
            assert not result.failed

    actions: list[list[Action]] = []
    asyncio.run(apply(first))
    asyncio.run(apply(first))  # unchanged token: nothing to do
    asyncio.run(apply(type(first)(**{**first.__dict__, "spec": {**first.spec, "resumeToken": "again"}})))
    assert actions == [[Action.CREATE], [Action.NOOP], [Action.RESUME]]
    assert [e["action"] for e in log(vendors)] == ["set_mix_stream", "resume_mcu_task"]
    record = store.get("MixTask/webinar-mix")
    assert record is not None and record.last_applied is not None
    assert (record.last_applied["resumeToken"], record.lifecycle) == ("again", "active")


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_maps_to_its_error_class_and_advice(vendors: EmulatorCluster, code: int) -> None:
    info = CODES[code]
    control(vendors, "tencent", "faults", {"action": "set_mix_stream", "code": str(code), "count": 10})
    with pytest.raises(VendorError) as caught:
        run(vendors, lambda p: p.start("MixTask", HANDLES, WEBINAR, lambda _h: None))
    error = caught.value
    assert type(error) is info.error and error.transient is info.transient and error.code == str(code)
    vendor_text = EMULATOR_MESSAGES.get(code, "error")
    assert str(error).startswith(f"tencent set_mix_stream failed: {code}: {vendor_text}; {info.advice} "
                                 "(request id Id-")
    assert len(log(vendors)) == (FAST.attempts if info.transient else 1)


def test_requests_wait_longer_than_the_servers_three_seconds_and_bodies_are_json(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENCENT_SECRET_KEY", str(APP["key"]))
    seen: list[httpx.Request] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(200, json={"ActionStatus": "OK", "ErrorInfo": "", "ErrorCode": 0, "RequestId": "x"})
        return httpx.Response(502, text="bad gateway")

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer), timeout=1) as client:
            provider = TencentProvider(context(client, "http://127.0.0.1:9"))
            await provider.resume("MixTask", HANDLES, None)
            await provider.start("MixTask", HANDLES, WEBINAR, lambda _h: None)

    with pytest.raises(VendorUnavailable) as caught:
        asyncio.run(main())
    assert str(caught.value) == "tencent set_mix_stream failed: HTTP502: the answer is not Tencent's JSON envelope"
    timeout = seen[0].extensions["timeout"]
    assert REQUEST_TIMEOUT.read is not None and REQUEST_TIMEOUT.read > 3
    assert timeout["read"] == REQUEST_TIMEOUT.read  # not the client's 1 s default
    assert json.loads(seen[0].content) == {"RoomId": "webinar"}
    assert seen[0].headers["content-type"] == "application/json"


# -- the shipped example through the command line ---------------------------------------------------
def test_cli_applies_the_example_then_resumes_on_a_new_token_and_resets_on_stop(
        vendors: EmulatorCluster, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    manifests = copy_example("tencent", tmp_path)
    first = reconciler(capsys, "apply", str(manifests), "--auto-approve")
    assert first.code == 0 and "Apply: 1 succeeded, 0 failed" in first.out, first.out + first.err
    assert reconciler(capsys, "apply", str(manifests), "--auto-approve").code == 0
    assert reconciler(capsys, "plan", str(manifests), "--detailed-exitcode").code == 0
    assert [e["action"] for e in log(vendors)] == ["set_mix_stream"]  # nothing to read back, nothing re-sent
    mix_file = manifests / "mix.yaml"
    mix_file.write_text(mix_file.read_text().replace('resumeToken: "2024-06-01"', 'resumeToken: "2024-06-02"'))
    resumed = reconciler(capsys, "apply", str(manifests), "--auto-approve")
    assert resumed.code == 0 and "MixTask/webinar-mix  resume" in resumed.out, resumed.out
    mix_file.write_text(mix_file.read_text().replace("state: running", "state: stopped"))
    stopped = reconciler(capsys, "apply", str(manifests), "--auto-approve")
    assert stopped.code == 0 and "reset-to-grid" in stopped.out, stopped.out
    assert [e["action"] for e in log(vendors)] == ["set_mix_stream", "resume_mcu_task", "set_mix_stream"]
    assert (mix(vendors)["layoutMode"], mix(vendors)["resumes"]) == (0, 1)
    assert reconciler(capsys, "plan", str(manifests), "--detailed-exitcode").code == 0
    key = TencentEmulator.DEMO_ENV["TENCENT_SECRET_KEY"]
    assert key not in first.out + first.err + resumed.out + stopped.out
    assert key.encode() not in b"".join(p.read_bytes() for p in (tmp_path / ".reconciler").iterdir())


def test_cli_reports_a_room_that_is_not_a_live_room(vendors: EmulatorCluster, tmp_path: Any,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    control(vendors, "tencent", "rooms", {"roomId": "webinar", "unlimited": False})
    failed = reconciler(capsys, "apply", str(copy_example("tencent", tmp_path)), "--auto-approve")
    assert failed.code == 1
    assert ("tencent set_mix_stream failed: 100006: the room is not a live room with IsUnlimitedRoomEnabled set to "
            "true: webinar; the room is not a live room created with IsUnlimitedRoomEnabled=true, so it cannot be "
            "mixed") in failed.out + failed.err
