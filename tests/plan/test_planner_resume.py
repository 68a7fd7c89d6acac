"""Planner behaviour ZEGO and Tencent depend on: resume on token or after a pause, stream-ban lifecycles.

Pure: desired state, records and observations are data; no sockets.
"""

from __future__ import annotations

from typing import Any

from reconciler.model.desired import DesiredResource
from reconciler.plan import Action
from reconciler.plan.planner import plan_orphan, plan_resource
from reconciler.records import Observation, ResourceRecord

LAYOUT = {"name": "grid", "canvas": {"width": 1280, "height": 720, "background": "#000000"},
          "panes": [{"user": "host", "x": 0.0, "y": 0.0, "width": 1.0, "height": 1.0, "fit": "crop",
                     "source": "camera", "alpha": 1.0}]}
WEBINAR: dict[str, Any] = {"channel": "webinar", "layout": LAYOUT, "output": {"encoding": "720p"},
                           "resumeToken": "t1"}
UNKNOWN = Observation("unknown", "Tencent has no call that reads an MCU mix back")


def tencent(spec: dict[str, Any] = WEBINAR, lifecycle: str = "active") -> DesiredResource:
    return DesiredResource("MixTask/webinar", "MixTask", "webinar", "tc", "tencent", lifecycle,  # type: ignore[arg-type]
                           spec)


def tencent_record(spec: dict[str, Any] = WEBINAR, lifecycle: str = "active") -> ResourceRecord:
    return ResourceRecord("MixTask/webinar", "MixTask", "webinar", "tc", "tencent", {"roomId": "webinar"}, 1,
                          spec, lifecycle)


def ban(allowed: bool, stream: str = "cam") -> DesiredResource:
    return DesiredResource("StreamRule/r", "StreamRule", "r", "zg", "zego",
                           "inactive" if allowed else "active", {"streamId": stream})


def ban_record(lifecycle: str, stream: str = "cam", generation: int = 1) -> ResourceRecord:
    return ResourceRecord("StreamRule/r", "StreamRule", "r", "zg", "zego", {"streamId": stream}, generation,
                          {"streamId": stream}, lifecycle)


def test_a_new_resume_token_asks_for_one_resume() -> None:
    change = plan_resource(tencent({**WEBINAR, "resumeToken": "t2"}), tencent_record(), UNKNOWN)
    assert (change.action, change.display_action, change.reasons) == (
        Action.RESUME, "resume", ("resumeToken changed: a one-off resume was asked for",))
    assert [(f.path, f.before, f.after) for f in change.fields] == [("resumeToken", "t1", "t2")]
    assert change.handles == {"roomId": "webinar"} and change.lifecycle == "active"


def test_an_unchanged_or_removed_token_asks_for_nothing() -> None:
    assert plan_resource(tencent(), tencent_record(), UNKNOWN).action is Action.NOOP
    without = {k: v for k, v in WEBINAR.items() if k != "resumeToken"}
    assert plan_resource(tencent(without), tencent_record(), UNKNOWN).action is Action.NOOP


def test_a_pause_recorded_in_state_is_resumed_when_the_vendor_cannot_be_asked() -> None:
    change = plan_resource(tencent(), tencent_record(lifecycle="paused"), UNKNOWN)
    assert (change.action, change.reasons) == (Action.RESUME, ("paused; the manifest asks for it to run",))


def test_layout_changes_are_set_mix_stream_and_stop_resets_to_the_grid() -> None:
    moved = {**LAYOUT, "panes": [{**LAYOUT["panes"][0], "width": 0.5}]}
    update = plan_resource(tencent({**WEBINAR, "layout": moved}), tencent_record(), UNKNOWN)
    assert (update.action, update.display_action, update.update_groups) == (Action.UPDATE, "set-mix-stream",
                                                                            ("layout",))
    encode = plan_resource(tencent({**WEBINAR, "output": {"encoding": "1080p"}}), tencent_record(), UNKNOWN)
    assert (encode.action, encode.display_action) == (Action.UPDATE, "set-video-encode")
    stop = plan_resource(tencent(lifecycle="inactive"), tencent_record(), UNKNOWN)
    assert (stop.action, stop.display_action) == (Action.STOP, "reset-to-grid")
    room = plan_resource(tencent({**WEBINAR, "channel": "other"}), tencent_record(), UNKNOWN)
    assert room.action is Action.REPLACE


def test_zego_mix_channel_is_bookkeeping_only() -> None:
    spec = {"channel": "a", "layout": LAYOUT, "output": {"streamId": "out", "encoding": "720p"}}
    desired = DesiredResource("MixTask/m", "MixTask", "m", "zg", "zego", "active", {**spec, "channel": "b"})
    record = ResourceRecord("MixTask/m", "MixTask", "m", "zg", "zego", {"taskId": "t"}, 1, spec, "active")
    assert plan_resource(desired, record, Observation("active")).action is Action.NOOP
    output = DesiredResource("MixTask/m", "MixTask", "m", "zg", "zego", "active",
                             {**spec, "output": {"streamUrl": "rtmp://cdn/x", "encoding": "720p"}})
    change = plan_resource(output, record, Observation("active"))
    assert (change.action, change.display_action) == (Action.UPDATE, "update-output")


def test_allowing_a_stream_that_was_never_banned_is_a_noop() -> None:
    assert plan_resource(ban(allowed=True), None, None).action is Action.NOOP


def test_ban_resume_ban_cycle_is_create_resume_create() -> None:
    first = plan_resource(ban(allowed=False), None, None)
    assert (first.action, first.display_action, first.generation) == (Action.CREATE, "ban", 1)
    lift = plan_resource(ban(allowed=True), ban_record("active"), Observation("unknown"))
    assert (lift.action, lift.display_action, lift.handles) == (Action.RESUME, "resume", {"streamId": "cam"})
    again = plan_resource(ban(allowed=False), ban_record("inactive"), Observation("unknown"))
    assert (again.action, again.display_action, again.generation, again.drift) == (Action.CREATE, "ban", 2, False)
    held = plan_resource(ban(allowed=False), ban_record("active"), Observation("unknown"))
    assert held.action is Action.NOOP


def test_a_ban_lifted_behind_our_back_is_drift_and_banned_again() -> None:
    publishing = Observation("inactive", "the stream is publishing, so no ban is in force")
    change = plan_resource(ban(allowed=False), ban_record("active"), publishing)
    assert (change.action, change.drift) == (Action.CREATE, True)
    assert change.reasons == (("drift: the vendor reports it is not running (the stream is publishing, so no ban is "
                              "in force); it will be started again"),)


def test_a_new_stream_id_replaces_the_ban_and_a_removed_rule_lifts_it_with_prune() -> None:
    moved = plan_resource(ban(allowed=False, stream="cam2"), ban_record("active"), Observation("unknown"))
    assert (moved.action, moved.generation) == (Action.REPLACE, 2)
    orphan = plan_orphan(ban_record("active"), Observation("unknown"), prune=True)
    assert (orphan.action, orphan.display_action, orphan.orphan) == (Action.RESUME, "resume", True)
    kept = plan_orphan(ban_record("active"), Observation("unknown"), prune=False)
    assert (kept.action, kept.reasons) == (Action.NOOP, (("removed from the manifests; `apply --prune` would "
                                                         "resume it"),))


def test_a_layout_change_and_a_new_resume_token_in_one_commit_do_both() -> None:
    layout = {**WEBINAR["layout"], "panes": [{**WEBINAR["layout"]["panes"][0], "user": "someone-else"}]}
    change = plan_resource(tencent({**WEBINAR, "layout": layout, "resumeToken": "t2"}), tencent_record(), UNKNOWN)
    assert change.action is Action.UPDATE
    assert change.update_groups == ("layout", "resumeToken")
    assert change.display_action == "set-mix-stream+resume"
    assert ("resumeToken", "t1", "t2") in [(f.path, f.before, f.after) for f in change.fields]
