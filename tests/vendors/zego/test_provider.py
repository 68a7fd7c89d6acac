"""ZegoProvider against the ZEGO emulator: signing, bans and their Sequence, mixes, test environment."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from reconciler.emulator.cluster import EmulatorCluster
from reconciler.errors import VendorConflict, VendorError, VendorUnavailable
from reconciler.model import load_manifests
from reconciler.model.provider import ProviderSpec
from reconciler.providers.base import ProviderContext, SequenceSource
from reconciler.retry import RetryPolicy
from reconciler.state.sqlite import SqliteState
from reconciler.vendors.zego.emulator import MESSAGES as EMULATOR_MESSAGES
from reconciler.vendors.zego.emulator import ZegoEmulator
from reconciler.vendors.zego.errors import CODES
from reconciler.vendors.zego.provider import ZegoProvider
from reconciler.vendors.zego.signing import public_params, signature
from tests.cli.helpers import copy_example, reconciler
from tests.conftest import REPO, control

T = TypeVar("T")
APP_ID = str(ZegoEmulator.DEMO_ACCOUNTS[0]["appId"])
SPECS = {d.name: dict(d.spec) for d in load_manifests([REPO / "examples" / "zego"]).desired()}
MIX = SPECS["concert-mix"]
FAST = RetryPolicy(attempts=4, base_delay=0.01, jitter=0)


async def no_sleep(_seconds: float) -> None:
    return None


def provider_spec(test: bool = False) -> ProviderSpec:
    return ProviderSpec.model_validate({"vendor": "zego", "appId": APP_ID, "test": test,
                                        "credentials": {"serverSecret": {"env": "ZEGO_SERVER_SECRET"}}})


def run(vendors: EmulatorCluster, scenario: Callable[[ZegoProvider], Awaitable[T]], *, test: bool = False,
        sequences: SequenceSource | None = None, events: list[str] | None = None) -> T:
    async def main() -> T:
        async with httpx.AsyncClient(timeout=5) as client:
            ctx = ProviderContext(name="zego-demo", spec=provider_spec(test), endpoint=vendors.endpoints["zego"],
                                  client=client, retry=FAST, sleep=no_sleep, sequences=sequences,
                                  events=(events if events is not None else []).append)
            return await scenario(ZegoProvider(ctx))

    return asyncio.run(main())


def offline(test: bool = False) -> ZegoProvider:
    return ZegoProvider(ProviderContext(name="zego-demo", spec=provider_spec(test), endpoint="http://127.0.0.1:1",
                                        client=None))  # type: ignore[arg-type]


def log(vendors: EmulatorCluster, *actions: str) -> list[dict[str, Any]]:
    return [e for e in control(vendors, "zego", "requests")["log"] if not actions or e["action"] in actions]


def sequences_sent(vendors: EmulatorCluster) -> list[int]:
    out = []
    for entry in log(vendors, "ForbidRTCStream", "ResumeRTCStream", "StartMix", "StopMix"):
        out.append(int(entry["params"]["Sequence"]) if "Sequence" in entry["params"] else int(entry["body"]["Sequence"]))
    return out


def strictly_increasing(values: list[int]) -> bool:
    return all(a < b for a, b in itertools.pairwise(values))


def test_published_signature_vector() -> None:
    assert signature(1234567890, "15215528852396", "0123456789abcdef0123456789abcdef", 1234567890) == \
        "938fc5ae453d3a52392cf77fa9580d02"
    params = public_params(1234567890, "0123456789abcdef0123456789abcdef", timestamp=1234567890,
                           nonce="15215528852396", is_test=True)
    assert params == {"AppId": "1234567890", "SignatureNonce": "15215528852396", "Timestamp": "1234567890",
                      "Signature": "938fc5ae453d3a52392cf77fa9580d02", "SignatureVersion": "2.0", "IsTest": "true"}
    assert len(public_params(1, "s", timestamp=1)["SignatureNonce"]) == 16


def test_handles_are_deterministic_and_carry_the_test_prefix() -> None:
    first = offline().new_handles("MixTask", "concert-mix", MIX, 1)
    assert first == offline().new_handles("MixTask", "concert-mix", MIX, 1)
    assert first["userId"] == "rtc-reconciler" and first["taskId"].startswith("concert-mix-")
    assert offline().new_handles("MixTask", "concert-mix", MIX, 2)["taskId"] == first["taskId"][:-1] + "2"
    assert offline().new_handles("MixTask", "m", {**MIX, "taskId": "fixed"}, 3)["taskId"] == "fixed"
    assert offline().new_handles("StreamRule", "r", {"streamId": "cam"}, 1) == {"streamId": "cam"}
    prefixed = {"streamId": f"zegotest-{APP_ID}-cam"}
    assert offline(test=True).new_handles("StreamRule", "r", {"streamId": "cam"}, 1) == prefixed
    assert offline(test=True).new_handles("StreamRule", "r", prefixed, 1) == prefixed  # never prefixed twice


def test_ban_resume_ban_cycle(vendors: EmulatorCluster, tmp_path: Any) -> None:
    store = SqliteState(tmp_path / "state.db")
    handles = {"streamId": "heckler-cam"}

    async def cycle(p: ZegoProvider) -> None:
        await p.start("StreamRule", handles, {"streamId": "heckler-cam"}, lambda _h: None)
        await p.resume("StreamRule", handles, None)
        await p.start("StreamRule", handles, {"streamId": "heckler-cam"}, lambda _h: None)

    run(vendors, cycle, sequences=store.next_sequence)
    assert [(e["action"], e["outcome"], e["params"]["StreamId"]) for e in log(vendors)] == [
        ("ForbidRTCStream", "ok", "heckler-cam"), ("ResumeRTCStream", "ok", "heckler-cam"),
        ("ForbidRTCStream", "ok", "heckler-cam")]
    assert strictly_increasing(sequences_sent(vendors))
    assert control(vendors, "zego", "state")["tasks"]["streams"]["heckler-cam"]["banned"] is True
    run(vendors, lambda p: p.stop("StreamRule", handles, None), sequences=store.next_sequence)  # a later run
    assert strictly_increasing(sequences_sent(vendors)) and len(sequences_sent(vendors)) == 4
    assert control(vendors, "zego", "state")["tasks"]["streams"]["heckler-cam"]["banned"] is False


def test_parallel_calls_for_one_stream_send_increasing_sequences(vendors: EmulatorCluster, tmp_path: Any) -> None:
    store = SqliteState(tmp_path / "state.db")
    handles = {"streamId": "busy"}

    async def storm(p: ZegoProvider) -> None:
        calls = [p.start("StreamRule", handles, {"streamId": "busy"}, lambda _h: None) if i % 2 == 0
                 else p.resume("StreamRule", handles, None) for i in range(8)]
        await asyncio.gather(*calls)

    run(vendors, storm, sequences=store.next_sequence)
    assert [e["outcome"] for e in log(vendors)] == ["ok"] * 8
    assert strictly_increasing(sequences_sent(vendors))


CHILD = """
import asyncio, sys, httpx
from reconciler.model.provider import ProviderSpec
from reconciler.providers.base import ProviderContext
from reconciler.vendors.zego.provider import ZegoProvider
from reconciler.retry import RetryPolicy
from reconciler.state.sqlite import SqliteState

async def main():
    store = SqliteState(sys.argv[2])
    spec = ProviderSpec.model_validate({"vendor": "zego", "appId": sys.argv[3],
                                        "credentials": {"serverSecret": {"env": "ZEGO_SERVER_SECRET"}}})
    async with httpx.AsyncClient(timeout=10) as client:
        p = ZegoProvider(ProviderContext(name="z", spec=spec, endpoint=sys.argv[1], client=client,
                                         retry=RetryPolicy(attempts=1), sequences=store.next_sequence))
        handles = {"streamId": "shared"}
        for i in range(10):
            if i % 2:
                await p.resume("StreamRule", handles, None)
            else:
                await p.start("StreamRule", handles, {"streamId": "shared"}, lambda h: None)

asyncio.run(main())
"""


def test_two_processes_sharing_a_state_store_never_send_a_lower_sequence(vendors: EmulatorCluster,
                                                                         tmp_path: Any) -> None:
    for action in ("ForbidRTCStream", "ResumeRTCStream"):
        control(vendors, "zego", "limits", {"action": action, "perSecond": 1000})
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [sys.executable, str(script), vendors.endpoints["zego"], str(tmp_path / "shared.db"), APP_ID]
    children = [subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for child in children:
        _, stderr = child.communicate(timeout=60)
        assert child.returncode == 0, stderr
    entries = log(vendors, "ForbidRTCStream", "ResumeRTCStream")
    assert len(entries) == 20 and {e["outcome"] for e in entries} == {"ok"}
    assert strictly_increasing(sequences_sent(vendors))


def test_a_machine_with_a_slow_clock_still_sends_higher_sequences_through_the_store(
        vendors: EmulatorCluster, tmp_path: Any) -> None:
    store = SqliteState(tmp_path / "state.db")
    def behind(scope: str, floor: int) -> int:
        return store.next_sequence(scope, floor - 3_600_000)

    handles = {"streamId": "cam"}
    run(vendors, lambda p: p.start("StreamRule", handles, {"streamId": "cam"}, lambda _h: None),
        sequences=store.next_sequence)
    run(vendors, lambda p: p.resume("StreamRule", handles, None), sequences=behind)
    assert [e["outcome"] for e in log(vendors)] == ["ok", "ok"]
    assert strictly_increasing(sequences_sent(vendors))

    # without a shared store, the slow clock's millisecond Sequence is refused by ZEGO
    def local_behind(scope: str, floor: int) -> int:
        return floor - 3_600_000

    with pytest.raises(VendorConflict) as caught:
        run(vendors, lambda p: p.start("StreamRule", handles, {"streamId": "cam"}, lambda _h: None),
            sequences=local_behind)
    assert re.fullmatch(
        r"zego ForbidRTCStream failed: 30006: invalid Sequence: Sequence \d+ is not greater than \d+, the last one "
        r"for stream cam within 10 s; ZEGO saw a higher Sequence for this stream in the last 10 s, so another client "
        r"manages it too; let every run that manages it share one state store \(request id [0-9A-F-]+\)",
        str(caught.value))


def test_mix_create_update_observe_stop(vendors: EmulatorCluster, tmp_path: Any) -> None:
    store = SqliteState(tmp_path / "state.db")
    events: list[str] = []
    handles = offline().new_handles("MixTask", "concert-mix", MIX, 1)
    moved_layout = {**MIX["layout"], "panes": [{**MIX["layout"]["panes"][0], "width": 0.5},
                                               *MIX["layout"]["panes"][1:]]}
    moved = {**MIX, "layout": moved_layout}

    async def scenario(p: ZegoProvider) -> list[Any]:
        await p.start("MixTask", handles, MIX, lambda _h: None)
        first = await p.observe("MixTask", handles, MIX)
        await p.update("MixTask", handles, moved, ("layout",))
        second = await p.observe("MixTask", handles, moved)
        await p.stop("MixTask", handles, moved)
        gone = await p.observe("MixTask", handles, moved)
        await p.stop("MixTask", handles, moved)  # stopping twice is harmless
        return [first, second, gone]

    control(vendors, "zego", "faults", {"action": "GetMixTaskInfo", "type": "error", "code": "110200001", "count": 1})
    first, second, gone = run(vendors, scenario, sequences=store.next_sequence, events=events)
    started = [e for e in log(vendors, "StartMix")]
    assert [e["body"]["TaskId"] for e in started] == [handles["taskId"]] * 2
    assert [i["RectInfo"] for i in started[0]["body"]["MixInput"]] == [
        {"Top": 0, "Left": 0, "Bottom": 720, "Right": 960},
        {"Top": 0, "Left": 960, "Bottom": 360, "Right": 1280},
        {"Top": 360, "Left": 960, "Bottom": 720, "Right": 1280}]
    assert [i["StreamId"] for i in started[0]["body"]["MixInput"]] == ["stage", "guest1", "guest2"]
    assert started[0]["body"]["MixOutput"] == [{"StreamId": "concert-mixed", "VideoBitrate": 1500000, "Fps": 15,
                                                "Width": 1280, "Height": 720}]
    assert started[1]["body"]["MixInput"][0]["RectInfo"] == {"Top": 0, "Left": 0, "Bottom": 720, "Right": 640}
    assert strictly_increasing(sequences_sent(vendors))
    assert (first.status, first.fields, second.status, second.fields) == ("active", {}, "active", {})
    assert (gone.status, gone.detail) == ("absent", "GetMixTaskInfo: 110209001: the mix task does not exist")
    assert events[0].startswith(f"observe {handles['taskId']}: 110200001 (transient), retry 1 in ")
    assert events[-1] == f"mix {handles['taskId']} was already gone at ZEGO; nothing to stop"
    assert control(vendors, "zego", "state")["tasks"]["mixes"] == {}


def test_observe_reports_drift_in_spec_terms(vendors: EmulatorCluster) -> None:
    handles = offline().new_handles("MixTask", "concert-mix", MIX, 1)
    run(vendors, lambda p: p.start("MixTask", handles, MIX, lambda _h: None))
    other = [{"StreamId": "guest2", "RectInfo": {"Top": 0, "Left": 0, "Bottom": 360, "Right": 640}}]
    control(vendors, "zego", "drift", {"taskId": handles["taskId"], "mixInput": other})
    seen = run(vendors, lambda p: p.observe("MixTask", handles, MIX))
    assert seen.status == "active" and set(seen.fields) == {"layout"}
    [pane] = seen.fields["layout"]["panes"]
    assert (pane["user"], pane["x"], pane["y"], pane["width"], pane["height"]) == ("guest2", 0.0, 0.0, 0.5, 0.5)
    control(vendors, "zego", "drift", {"taskId": handles["taskId"], "remove": True})
    assert run(vendors, lambda p: p.observe("MixTask", handles, MIX)).status == "absent"


def test_stream_rule_observation(vendors: EmulatorCluster) -> None:
    handles = {"streamId": "stage"}
    quiet = run(vendors, lambda p: p.observe("StreamRule", handles, None))
    assert (quiet.status, quiet.detail) == ("unknown", ("stream not publishing (41004); ZEGO has no call that lists "
                                                       "bans, so the last applied state stands"))
    control(vendors, "zego", "publish", {"streamId": "stage", "publishing": True})
    live = run(vendors, lambda p: p.observe("StreamRule", handles, None))
    assert (live.status, live.detail) == ("inactive", "the stream is publishing, so no ban is in force")


def test_test_environment_prefixes_streams_and_paces_bans(vendors: EmulatorCluster) -> None:
    p = offline(test=True)
    assert p.rate_limit("ban-test").per_second == 5 and p.rate_limit("ban").per_second == 20
    handles = p.new_handles("StreamRule", "r", {"streamId": "cam"}, 1)
    mix_handles = p.new_handles("MixTask", "concert-mix", MIX, 1)
    run(vendors, lambda q: q.start("StreamRule", handles, {"streamId": "cam"}, lambda _h: None), test=True)
    run(vendors, lambda q: q.start("MixTask", mix_handles, MIX, lambda _h: None), test=True)
    ban, mix = log(vendors)
    prefix = f"zegotest-{APP_ID}-"
    assert (ban["params"]["IsTest"], ban["params"]["StreamId"], ban["outcome"]) == ("true", prefix + "cam", "ok")
    assert [i["StreamId"] for i in mix["body"]["MixInput"]] == [prefix + "stage", prefix + "guest1", prefix + "guest2"]
    assert mix["body"]["MixOutput"][0]["StreamId"] == prefix + "concert-mixed" and mix["outcome"] == "ok"


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_maps_to_its_error_class_and_advice(vendors: EmulatorCluster, code: int) -> None:
    info = CODES[code]
    control(vendors, "zego", "faults", {"action": "ForbidRTCStream", "code": str(code), "count": 10})
    with pytest.raises(VendorError) as caught:
        run(vendors, lambda p: p.start("StreamRule", {"streamId": "s"}, {"streamId": "s"}, lambda _h: None))
    error = caught.value
    assert type(error) is info.error and error.transient is info.transient and error.code == str(code)
    vendor_text = EMULATOR_MESSAGES.get(code, "error")
    assert str(error).startswith(f"zego ForbidRTCStream failed: {code}: {vendor_text}; {info.advice} (request id ")
    assert len(log(vendors)) == (FAST.attempts if info.transient else 1)


def test_unsupported_operations_and_broken_answers(vendors: EmulatorCluster) -> None:
    with pytest.raises(VendorError) as caught:
        run(vendors, lambda p: p.resume("MixTask", {"taskId": "t"}, MIX))
    assert str(caught.value) == "zego resume failed: Unsupported: zego has no resume for MixTask"

    async def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>bad gateway</html>")

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(broken)) as client:
            ctx = ProviderContext(name="z", spec=provider_spec(), endpoint="http://127.0.0.1:9", client=client,
                                  retry=RetryPolicy(attempts=2, base_delay=0), sleep=no_sleep)
            await ZegoProvider(ctx).observe("MixTask", {"taskId": "t"}, None)

    with pytest.raises(VendorUnavailable) as unavailable:
        asyncio.run(main())
    assert str(unavailable.value) == "zego GetMixTaskInfo failed: HTTP502: the answer is not ZEGO's JSON envelope"


# -- the shipped example through the command line ---------------------------------------------------
def writes(vendors: EmulatorCluster) -> list[str]:
    return [e["action"] for e in log(vendors) if e["action"] not in ("GetMixTaskInfo", "DescribeRTCStreamState")]


def test_cli_applies_the_example_once_then_lifts_and_renews_the_ban(
        vendors: EmulatorCluster, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    manifests = copy_example("zego", tmp_path)
    first = reconciler(capsys, "apply", str(manifests), "--auto-approve")
    assert first.code == 0 and "Apply: 2 succeeded, 0 failed" in first.out, first.out + first.err
    assert sorted(writes(vendors)) == ["ForbidRTCStream", "StartMix"]  # allow-stage: never banned, nothing to do
    assert reconciler(capsys, "apply", str(manifests), "--auto-approve").code == 0
    assert reconciler(capsys, "plan", str(manifests), "--detailed-exitcode").code == 0
    assert len(writes(vendors)) == 2  # applying twice wrote nothing the second time
    rules = manifests / "stream-rules.yaml"
    rules.write_text(rules.read_text().replace("streamId: heckler-cam, allowed: false",
                                               "streamId: heckler-cam, allowed: true"))
    lifted = reconciler(capsys, "apply", str(manifests), "--auto-approve")
    assert lifted.code == 0 and "StreamRule/ban-heckler  resume" in lifted.out, lifted.out
    rules.write_text(rules.read_text().replace("streamId: heckler-cam, allowed: true",
                                               "streamId: heckler-cam, allowed: false"))
    assert reconciler(capsys, "apply", str(manifests), "--auto-approve").code == 0
    assert writes(vendors)[2:] == ["ResumeRTCStream", "ForbidRTCStream"]
    bans = [int(e["params"]["Sequence"]) for e in log(vendors, "ForbidRTCStream", "ResumeRTCStream")]
    assert len(bans) == 3 and strictly_increasing(bans)
    assert control(vendors, "zego", "state")["tasks"]["streams"]["heckler-cam"]["banned"] is True
    secret = ZegoEmulator.DEMO_ENV["ZEGO_SERVER_SECRET"]
    assert secret not in first.out + first.err + lifted.out + lifted.err
    assert secret.encode() not in b"".join(p.read_bytes() for p in (tmp_path / ".reconciler").iterdir())
    assert all(secret not in str(e) for e in log(vendors))  # only the signature travels


def test_cli_restarts_a_mix_that_ended_and_sees_a_lifted_ban(
        vendors: EmulatorCluster, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    manifests = copy_example("zego", tmp_path)
    assert reconciler(capsys, "apply", str(manifests), "--auto-approve").code == 0
    task_id = offline().new_handles("MixTask", "concert-mix", MIX, 1)["taskId"]
    control(vendors, "zego", "drift", {"taskId": task_id, "remove": True})
    control(vendors, "zego", "drift", {"streamId": "heckler-cam", "banned": False})
    control(vendors, "zego", "publish", {"streamId": "heckler-cam", "publishing": True})
    planned = reconciler(capsys, "plan", str(manifests), "--detailed-exitcode")
    assert planned.code == 2, planned.out + planned.err
    assert "GetMixTaskInfo: 110209001: the mix task does not exist" in planned.out
    assert "the stream is publishing, so no ban is in force" in planned.out
    assert reconciler(capsys, "apply", str(manifests), "--auto-approve").code == 0
    assert sorted(writes(vendors)[2:]) == ["ForbidRTCStream", "StartMix"]
    mixes = control(vendors, "zego", "state")["tasks"]["mixes"]
    assert list(mixes) == [offline().new_handles("MixTask", "concert-mix", MIX, 2)["taskId"]]
    assert control(vendors, "zego", "state")["tasks"]["streams"]["heckler-cam"]["banned"] is True


def test_a_running_mix_can_be_adopted_with_its_owner(vendors: EmulatorCluster) -> None:
    foreign = {"taskId": "made-elsewhere", "userId": "someone"}
    run(vendors, lambda p: p.start("MixTask", foreign, MIX, lambda _h: None))
    handles = offline().import_handles("MixTask", " made-elsewhere ")
    assert handles == {"taskId": "made-elsewhere"}
    seen = run(vendors, lambda p: p.observe("MixTask", handles, MIX))
    assert (seen.status, seen.handles) == ("active", foreign)
    run(vendors, lambda p: p.stop("MixTask", seen.handles, MIX))  # stops as the owner ZEGO knows
    assert [e["outcome"] for e in log(vendors, "StopMix")] == ["ok"]
    with pytest.raises(VendorError) as caught:
        offline().import_handles("StreamRule", "cam")
    assert str(caught.value) == "zego import failed: Unsupported: zego has no import for StreamRule"
