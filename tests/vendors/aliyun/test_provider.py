"""AliyunProvider against the Aliyun emulator over loopback: calls, layout mapping, retries, errors."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from conftest import REPO, control

from reconciler.cli import main
from reconciler.emulator.cluster import EmulatorCluster
from reconciler.errors import (
    VendorAuthError,
    VendorConflict,
    VendorError,
    VendorNotFound,
    VendorRateLimited,
    VendorUnavailable,
)
from reconciler.model import load_manifests
from reconciler.model.provider import ProviderSpec
from reconciler.providers.base import ProviderContext
from reconciler.retry import RetryPolicy
from reconciler.vendors.aliyun.provider import ADVICE, AliyunProvider, start_params, vendor_error
from reconciler.vendors.aliyun.provider_layouts import AliyunLayouts

T = TypeVar("T")
SPECS = {d.name: dict(d.spec) for d in load_manifests([REPO / "examples" / "aliyun"]).desired()}


def _pane(user: str, x: float, y: float, size: float, fit: str, source: str = "camera") -> dict[str, Any]:
    return {"user": user, "x": x, "y": y, "width": size, "height": size, "fit": fit, "source": source, "alpha": 1.0}


# the task tests use documented presets (3: picture-in-picture 1, 2: left/right tiles): no layout resource;
# custom layouts are tested in tests/vendors/aliyun/test_layouts.py and tests/cli/test_aliyun_layouts.py
TOWNHALL = {**SPECS["townhall-live"], "layout": {**SPECS["townhall-live"]["layout"], "name": "pip", "panes": [
    _pane("host", 0, 0, 1, "crop"), _pane("guest1", 0.00625, 0.00625, 0.2361, "crop")]}}
STANDUP = {**SPECS["standup-grid"], "layout": {**SPECS["standup-grid"]["layout"], "name": "tiles", "panes": [
    _pane("slides", 0.0021, 0.2516, 0.4968, "fit", "screen"), _pane("alice", 0.501, 0.2516, 0.4968, "fit")]}}
FAST = RetryPolicy(attempts=4, base_delay=0.01, jitter=0)


def run(vendors: EmulatorCluster, scenario: Callable[[AliyunProvider], Awaitable[T]], *,
        retry: RetryPolicy = FAST, sleep: Any = None, events: list[str] | None = None) -> T:
    spec = ProviderSpec.model_validate({"vendor": "aliyun", "appId": "demo-aliyun-app", "credentials": {
        "accessKeyId": {"env": "ALIYUN_ACCESS_KEY_ID"}, "accessKeySecret": {"env": "ALIYUN_ACCESS_KEY_SECRET"}}})

    async def main() -> T:
        async with httpx.AsyncClient(timeout=5) as client:
            ctx = ProviderContext(name="ali-demo", spec=spec, endpoint=vendors.endpoints["aliyun"], client=client,
                                  retry=retry, sleep=sleep, events=(events if events is not None else []).append)
            return await scenario(AliyunProvider(ctx))

    return asyncio.run(main())


def logged(vendors: EmulatorCluster) -> list[tuple[str, str]]:
    return [(e["action"], e["outcome"]) for e in control(vendors, "aliyun", "requests")["log"]]


def handles(name: str = "townhall-live", spec: dict[str, Any] = TOWNHALL, generation: int = 1) -> dict[str, str]:
    return run_free(lambda p: p.new_handles("MixTask", name, spec, generation))


def run_free(fn: Callable[[AliyunProvider], T]) -> T:
    spec = ProviderSpec.model_validate({"vendor": "aliyun", "appId": "demo-aliyun-app", "credentials": {}})
    return fn(AliyunProvider(ProviderContext(name="ali-demo", spec=spec, endpoint="http://127.0.0.1:1",
                                             client=None)))  # type: ignore[arg-type]


def test_task_ids_are_deterministic_short_and_new_per_generation() -> None:
    first = handles()["TaskId"]
    assert first == handles()["TaskId"] and re.fullmatch(r"rtcr-townhall-live-[0-9a-f]{8}-g1", first)
    assert handles(generation=2)["TaskId"] == first[:-1] + "2"
    long_name = "n" * 63
    long_id = handles(long_name, generation=123)["TaskId"]
    assert len(long_id) == 64 and re.fullmatch(r"[A-Za-z0-9_-]+-g123", long_id)
    assert handles(long_name[:-1] + "m", generation=123)["TaskId"] != long_id
    explicit = {**TOWNHALL, "taskId": "my_task-1"}
    assert handles(spec=explicit)["TaskId"] == "my_task-1"
    assert handles(spec=explicit, generation=3)["TaskId"] == "my_task-1-g3"
    assert handles(spec={**TOWNHALL, "taskId": "x" * 64}, generation=2)["TaskId"] == "x" * 61 + "-g2"


def layout_params(layout: dict[str, Any]) -> dict[str, str]:
    """The task's layout parameters of a preset layout (no vendor call is needed for a preset)."""

    async def no_call(*_args: Any) -> dict[str, Any]:
        raise AssertionError("a preset needs no layout call")

    return asyncio.run(AliyunLayouts("demo-aliyun-app", no_call).task_params({"layout": layout}))


def test_layout_mapping_presets_panes_crop_mode_and_background() -> None:
    assert layout_params(TOWNHALL["layout"]) == {
        "LayoutIds.1": "3",
        "UserPanes.1.PaneId": "0", "UserPanes.1.UserId": "host", "UserPanes.1.SourceType": "camera",
        "UserPanes.2.PaneId": "1", "UserPanes.2.UserId": "guest1", "UserPanes.2.SourceType": "camera",
        "CropMode": "1", "BackgroundColor": "0",
    }
    params = start_params(STANDUP, layout_params(STANDUP["layout"]))
    assert (params["MediaEncode"], params["TaskProfile"], params["CropMode"]) == ("10", "4IN_720P", "2")
    assert params["BackgroundColor"] == str(0x1A2B3C) and params["UserPanes.1.SourceType"] == "shareScreen"
    assert params["LayoutIds.1"] == "2" and "LayoutIds.2" not in params


def test_start_observe_update_stop(vendors: EmulatorCluster) -> None:
    ids = handles()
    saved: list[dict[str, str]] = []

    async def scenario(p: AliyunProvider) -> list[Any]:
        seen = [await p.observe("MixTask", ids, TOWNHALL)]
        assert await p.start("MixTask", ids, TOWNHALL, lambda h: saved.append(dict(h))) == ids
        seen.append(await p.observe("MixTask", ids, TOWNHALL))
        assert await p.update("MixTask", ids, {**TOWNHALL, "layout": STANDUP["layout"]}, ("layout",)) == ids
        await p.stop("MixTask", ids, TOWNHALL)
        seen.append(await p.observe("MixTask", ids, TOWNHALL))
        await p.stop("MixTask", ids, TOWNHALL)  # already stopped: nothing to do
        return seen

    absent, active, stopped = run(vendors, scenario)
    assert saved == [ids]
    assert (absent.status, absent.detail) == ("absent", f"no task {ids['TaskId']} at Aliyun")
    assert (active.status, active.detail, dict(active.handles)) == ("active", "", ids)
    assert (stopped.status, stopped.detail) == ("inactive", "status 3: stopped by the user")
    log = control(vendors, "aliyun", "requests")["log"]
    start = next(e["params"] for e in log if e["action"] == "StartMPUTask")
    assert {k: start[k] for k in ("AppId", "ChannelId", "TaskId", "MediaEncode", "StreamURL", "Format", "Version")} == {
        "AppId": "demo-aliyun-app", "ChannelId": "townhall", "TaskId": ids["TaskId"], "MediaEncode": "20",
        "StreamURL": "rtmp://push.example.com/live/townhall", "Format": "JSON", "Version": "2018-01-11"}
    update = next(e["params"] for e in log if e["action"] == "UpdateMPULayout")
    assert {k: v for k, v in update.items() if k.startswith(("UserPanes", "LayoutIds"))} == {
        k: v for k, v in layout_params(STANDUP["layout"]).items() if k.startswith(("UserPanes", "LayoutIds"))}
    task = control(vendors, "aliyun", "state")["tasks"][ids["TaskId"]]
    assert task["userPanes"][0] == {"PaneId": 0, "UserId": "slides", "SourceType": "shareScreen"}
    assert (task["layoutIds"], task["cropMode"], task["backgroundColor"]) == ([2], 2, 0x1A2B3C)
    assert [a for a, _ in logged(vendors)] == ["GetMPUTaskStatus", "StartMPUTask", "GetMPUTaskStatus",
                                              "UpdateMPULayout", "StopMPUTask", "GetMPUTaskStatus", "StopMPUTask"]
    assert {e["method"] for e in log} == {"POST"} and all(e["params"].get("Signature") for e in log)


def test_waiting_drifted_and_deleted_tasks_are_observed(vendors: EmulatorCluster) -> None:
    ids = handles()
    control(vendors, "aliyun", "new-task-status", {"status": 0})

    async def scenario(p: AliyunProvider) -> list[Any]:
        await p.start("MixTask", ids, TOWNHALL, lambda h: None)
        seen = [await p.observe("MixTask", ids, None)]
        control(vendors, "aliyun", "drift", {"taskId": ids["TaskId"], "status": 4})
        seen.append(await p.observe("MixTask", ids, None))
        control(vendors, "aliyun", "drift", {"taskId": ids["TaskId"], "delete": True})
        seen.append(await p.observe("MixTask", ids, None))
        await p.stop("MixTask", ids, None)  # not found: nothing to stop
        with pytest.raises(VendorNotFound):
            await p.update("MixTask", ids, TOWNHALL, ("layout",))
        return seen

    waiting, channel_ended, gone = run(vendors, scenario)
    assert (waiting.status, waiting.detail) == ("active", "waiting for the channel to start")
    assert (channel_ended.status, channel_ended.detail) == ("inactive", "status 4: the channel ended")
    assert gone.status == "absent"


def test_a_transient_start_error_is_retried_after_observing(vendors: EmulatorCluster) -> None:
    control(vendors, "aliyun", "faults", {"action": "StartMPUTask", "type": "error", "code": "Service.BuildSignature",
                                          "status": 500, "count": 1})
    events: list[str] = []
    run(vendors, lambda p: p.start("MixTask", handles(), TOWNHALL, lambda h: None), events=events)
    assert logged(vendors) == [("StartMPUTask", "fault:Service.BuildSignature"),
                               ("GetMPUTaskStatus", "error:InvalidTask.NotFound"), ("StartMPUTask", "ok")]
    assert list(control(vendors, "aliyun", "state")["tasks"]) == [handles()["TaskId"]]
    assert events == [f"StartMPUTask {handles()['TaskId']}: Service.BuildSignature (transient), retry 1 in 0.0s"]


def test_a_lost_start_response_is_adopted_without_a_second_start(vendors: EmulatorCluster) -> None:
    control(vendors, "aliyun", "faults", {"action": "StartMPUTask", "type": "lost-response", "count": 1})
    assert run(vendors, lambda p: p.start("MixTask", handles(), TOWNHALL, lambda h: None)) == handles()
    assert logged(vendors) == [("StartMPUTask", "ok"), ("GetMPUTaskStatus", "ok")]
    assert control(vendors, "aliyun", "state")["tasks"][handles()["TaskId"]]["status"] == 1


def test_task_already_exists_is_adopted_when_running_and_refused_when_stopped(vendors: EmulatorCluster) -> None:
    ids = handles()

    async def twice(p: AliyunProvider) -> None:
        await p.start("MixTask", ids, TOWNHALL, lambda h: None)
        await p.start("MixTask", ids, TOWNHALL, lambda h: None)
        await p.stop("MixTask", ids, None)
        await p.start("MixTask", ids, TOWNHALL, lambda h: None)

    with pytest.raises(VendorConflict) as caught:
        run(vendors, twice)
    assert caught.value.transient is False
    assert str(caught.value) == (
        f"aliyun StartMPUTask failed: Task.AlreadyExists: TaskId {ids['TaskId']} belongs to a task that already "
        "stopped (status 3: stopped by the user); Aliyun never reuses a TaskId: plan and apply again to start a "
        "new generation, or change spec.taskId")
    assert logged(vendors) == [("StartMPUTask", "ok"), ("StartMPUTask", "error:Task.AlreadyExists"),
                               ("GetMPUTaskStatus", "ok"), ("StopMPUTask", "ok"),
                               ("StartMPUTask", "error:Task.AlreadyExists"), ("GetMPUTaskStatus", "ok")]


def test_a_stream_url_in_its_reuse_window_is_retried_with_a_pause(vendors: EmulatorCluster) -> None:
    # the emulator's clock stands still: only the provider's (fake) pauses move it, so the 10 s reuse
    # window lasts exactly four 3 s pauses however slow the machine is
    control(vendors, "aliyun", "clock", {"freeze": True})
    first, second = handles(generation=1), handles(generation=2)
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:  # the emulator's clock moves instead of the test waiting
        pauses.append(seconds)
        control(vendors, "aliyun", "clock", {"advance": seconds})

    async def replace(p: AliyunProvider) -> None:
        await p.start("MixTask", first, TOWNHALL, lambda h: None)
        await p.stop("MixTask", first, TOWNHALL)
        await p.start("MixTask", second, TOWNHALL, lambda h: None)

    run(vendors, replace, sleep=sleep, retry=RetryPolicy(attempts=6, base_delay=0.01, jitter=0))
    assert pauses == [3.0, 3.0, 3.0, 3.0]  # every pause is the 3 s floor; 4 x 3 s outlast the 10 s window
    outcomes = [o for a, o in logged(vendors) if a == "StartMPUTask"]
    assert outcomes == ["ok"] + ["error:StreamURL.RecentlyStopped"] * 4 + ["ok"]
    assert control(vendors, "aliyun", "state")["tasks"][second["TaskId"]]["status"] == 1


@pytest.mark.parametrize(
    ("fault", "error_class", "message"),
    [
        ({"code": "App.Stop", "status": 200}, VendorError,
         ("aliyun StartMPUTask failed: App.Stop: The app is disabled; re-enable the AppId in the console; "
          "the app is disabled: re-enable the AppId in the RTC console")),
        ({"code": "Service.NoApp", "status": 404}, VendorError,
         ("aliyun StartMPUTask failed: Service.NoApp: The App does not exist; no such AppId in this Alibaba Cloud "
          "account: check spec.appId of Provider/ali-demo")),
        ({"code": "StreamURL.InUse", "status": 400}, VendorConflict,
         ("aliyun StartMPUTask failed: StreamURL.InUse: The StreamURL is used by another running task; another task "
          "pushes to this output.streamUrl; stop it or choose another URL")),
    ],
)
def test_permanent_errors_are_not_retried(vendors: EmulatorCluster, fault: dict[str, Any],
                                          error_class: type[VendorError], message: str) -> None:
    control(vendors, "aliyun", "faults", {"action": "StartMPUTask", "type": "error", "count": 1, **fault})
    with pytest.raises(error_class) as caught:
        run(vendors, lambda p: p.start("MixTask", handles(), TOWNHALL, lambda h: None))
    assert caught.value.transient is False and re.sub(r" \(request id [^)]+\)$", "", str(caught.value)) == message
    assert len(logged(vendors)) == 1


def test_a_wrong_secret_is_an_auth_error_naming_the_provider(vendors: EmulatorCluster,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIYUN_ACCESS_KEY_SECRET", "a-wrong-secret-value")
    with pytest.raises(VendorAuthError) as caught:
        run(vendors, lambda p: p.observe("MixTask", handles(), None))
    text = str(caught.value)
    assert text.startswith("aliyun GetMPUTaskStatus failed: Request.IllegalSignature: The signature does not match "
                           "the one we calculated; check the AccessKey id/secret referenced by Provider/ali-demo")
    assert "a-wrong-secret-value" not in text and len(logged(vendors)) == 1


def test_throttling_is_answered_with_backoff(vendors: EmulatorCluster) -> None:
    # the client's own bucket (4000/min) is far above the 2 calls per 0.3 s the emulator now allows
    # the emulator's clock is frozen and moves only by the provider's backoff pauses: the window fills
    # after exactly two calls and empties after exactly the pauses below, on any machine
    control(vendors, "aliyun", "clock", {"freeze": True})
    control(vendors, "aliyun", "limits", {"action": "GetMPUTaskStatus", "perSecond": 2 / 0.3, "window": 0.3})
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        control(vendors, "aliyun", "clock", {"advance": seconds})

    async def observe_four(p: AliyunProvider) -> list[str]:
        return [(await p.observe("MixTask", handles(), None)).status for _ in range(4)]

    statuses = run(vendors, observe_four, retry=RetryPolicy(attempts=6, base_delay=0.2, jitter=0), sleep=sleep)
    assert statuses == ["absent"] * 4
    assert pauses == [0.2, 0.4]  # the third call waits out the window; the fourth fits in the new one
    counts = control(vendors, "aliyun", "requests")
    assert counts["throttled"] == 2
    assert counts["actions"]["GetMPUTaskStatus"]["error:InvalidTask.NotFound"] == 4


def test_only_mix_tasks_and_layout_updates() -> None:
    with pytest.raises(VendorError, match="aliyun has no start for Recording"):
        run_free(lambda p: p.new_handles("Recording", "r", {}, 1))

    async def update_output(p: AliyunProvider) -> None:
        await p.update("MixTask", {"TaskId": "t"}, TOWNHALL, ("layout", "output"))

    with pytest.raises(VendorError, match="aliyun has no in-place update of output for MixTask"):
        asyncio.run(update_output(run_free(lambda p: p)))


DOC_CODES = [  # chapter 9 of the document, in its order
    "Request.NoTimestamp", "Request.NoSignature", "Request.NoRequestID", "Request.NoBizID",
    "Request.NoAliUid", "Request.NoAppID", "Request.NoDescription", "Request.NoAppType",
    "Request.NoServiceAreas", "Request.NoBillType", "Request.NoChannelID", "Request.NoUserGroups",
    "Request.NoUserID", "Request.NoSessionID", "Request.NoNonce", "Request.NoTerminalIDs",
    "Request.MismatchBizID", "Request.InvalidAppID", "Request.InvalidAppKey", "Request.InvalidAppCallback",
    "Request.InvalidChannelID", "Request.InvalidChannelKey", "Request.InvalidNonce",
    "Request.InvalidTimestamp", "Request.IllegalTerminal", "Request.ChannelQueryExpire", "Request.ExistApp",
    "Request.ExistAppCallback", "Request.ExistChannel", "Request.IllegalTimestamp",
    "Request.IllegalSignature", "Request.IllegalAuth", "Request.IllegalBizID", "Request.IllegalAliUID",
    "Request.IllegalBroadcast", "Request.IllegalUserGroups", "Service.NoSignaling", "Service.NoApp",
    "Service.NoAppCallback", "Service.NoChannel", "Service.BuildSignature", "Service.ParseHTTPBody",
    "Service.AppRDSOperate", "Service.AppCallbackRDSOperate", "Service.ChannelRDSOperate",
    "Service.GenerateChannelKey", "Service.GenerateChannelToken", "Service.SignalingSendMessage",
    "Service.Inactive", "Channel.NoExist", "Service.NoExist", "App.Stop", "App.ChargeOverDue",
    "Channel.Exceeds",
]


def test_every_code_of_the_document_has_advice() -> None:
    assert [code for code in DOC_CODES if code not in ADVICE] == []


@pytest.mark.parametrize(
    ("code", "status", "error_class", "transient"),
    [
        ("Request.IllegalAuth", 401, VendorAuthError, False),
        ("Request.IllegalTimestamp", 401, VendorAuthError, False),
        ("Request.InvalidChannelID", 400, VendorError, False),
        ("Service.NoApp", 404, VendorError, False),
        ("Service.ChannelRDSOperate", 500, VendorUnavailable, True),
        ("Throttling.User", 400, VendorRateLimited, True),
        ("App.ChargeOverDue", 200, VendorError, False),
        ("InvalidTask.NotFound", 404, VendorNotFound, False),
        ("StreamURL.RecentlyStopped", 400, VendorConflict, True),
    ],
)
def test_error_classes_follow_the_code_table(code: str, status: int, error_class: type[VendorError],
                                             transient: bool) -> None:
    err = vendor_error(code, "text.", status, provider="ali-demo", action="StartMPUTask")
    assert type(err) is error_class and err.transient is transient and err.http_status == status


# -- the shipped examples through the command line ---------------------------------------------------
EXAMPLES = REPO / "examples" / "aliyun"


def reconciler(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out + captured.err


def test_cli_applies_the_examples_once(vendors: EmulatorCluster, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = reconciler(capsys, "apply", str(EXAMPLES), "--auto-approve")
    assert code == 0 and "Apply: 4 succeeded, 0 failed" in out, out  # two custom layouts, then two tasks
    tasks = control(vendors, "aliyun", "state")["tasks"]
    townhall = tasks[handles()["TaskId"]]
    layouts = control(vendors, "aliyun", "layouts")["layouts"]
    [speaker] = [int(i) for i, x in layouts.items() if x["Name"].startswith("rtcr-speaker-plus-3-")]
    assert (townhall["status"], townhall["channel"], townhall["layoutIds"]) == (1, "townhall", [speaker])
    assert [p["UserId"] for p in townhall["userPanes"]] == ["host", "guest1", "guest2"]
    assert tasks[handles("standup-grid", STANDUP)["TaskId"]]["mediaEncode"] == 10
    assert reconciler(capsys, "apply", str(EXAMPLES), "--auto-approve")[0] == 0
    assert reconciler(capsys, "plan", str(EXAMPLES), "--detailed-exitcode")[0] == 0
    assert sorted(a for a, _ in logged(vendors) if a not in ("GetMPUTaskStatus", "DescribeMPULayoutInfoList")) == [
        "CreateMPULayout", "CreateMPULayout", "StartMPUTask", "StartMPUTask"]


def test_cli_repairs_a_task_the_vendor_stopped(vendors: EmulatorCluster, capsys: pytest.CaptureFixture[str]) -> None:
    assert reconciler(capsys, "apply", str(EXAMPLES), "--auto-approve")[0] == 0
    control(vendors, "aliyun", "drift", {"taskId": handles()["TaskId"], "status": 5})
    control(vendors, "aliyun", "clock", {"advance": 11})  # past the StreamURL reuse window
    code, out = reconciler(capsys, "plan", str(EXAMPLES), "--detailed-exitcode")
    assert code == 2 and "status 5: CDN network problem, the live stream stopped" in out, out
    assert reconciler(capsys, "apply", str(EXAMPLES), "--auto-approve")[0] == 0
    tasks = control(vendors, "aliyun", "state")["tasks"]
    assert tasks[handles()["TaskId"]]["status"] == 5 and tasks[handles(generation=2)["TaskId"]]["status"] == 1


def test_cli_updates_a_layout_in_place_then_stops(vendors: EmulatorCluster, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    manifests = tmp_path / "manifests"
    shutil.copytree(EXAMPLES, manifests)
    assert reconciler(capsys, "apply", str(manifests), "--auto-approve")[0] == 0
    tasks_file = manifests / "tasks.yaml"
    tasks_file.write_text(tasks_file.read_text().replace("layout: speaker-plus-3", "layout: grid-2x2"))
    code, out = reconciler(capsys, "apply", str(manifests), "--auto-approve")
    assert code == 0 and "update-layout" in out, out
    task = control(vendors, "aliyun", "state")["tasks"][handles()["TaskId"]]
    assert [p["UserId"] for p in task["userPanes"]] == ["slides", "alice", "bob", "carol"]
    tasks_file.write_text(tasks_file.read_text().replace("state: running", "state: stopped"))
    assert reconciler(capsys, "apply", str(manifests), "--auto-approve")[0] == 0
    writes = [a for a, o in logged(vendors) if a not in ("GetMPUTaskStatus", "DescribeMPULayoutInfoList")]
    assert sorted(writes[:4]) == ["CreateMPULayout", "CreateMPULayout", "StartMPUTask", "StartMPUTask"]
    assert writes[4:] == ["UpdateMPULayout", "StopMPUTask", "StopMPUTask"]
    assert {t["status"] for t in control(vendors, "aliyun", "state")["tasks"].values()} == {3}
