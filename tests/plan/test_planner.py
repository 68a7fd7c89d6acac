"""The planner is pure: these tests build inputs as data and check the plan, no sockets."""

from __future__ import annotations

from typing import Any

from reconciler.model.desired import DesiredResource
from reconciler.plan import Action, PlanOptions, make_plan, plan_from_dict, plan_to_dict
from reconciler.plan.planner import plan_resource
from reconciler.records import Observation, ResourceRecord

LAYOUT = {"name": "grid", "canvas": {"width": 1280, "height": 720, "background": "#000000"},
          "panes": [{"user": "host", "x": 0.0, "y": 0.0, "width": 0.5, "height": 1.0, "fit": "crop",
                     "source": "camera", "alpha": 1.0}]}
SPEC: dict[str, Any] = {"channel": "townhall", "layout": LAYOUT,
                        "output": {"streamUrl": "rtmp://push.example.com/live/a", "encoding": "720p"}}


def desired(spec: dict[str, Any] | None = None, lifecycle: str = "active", name: str = "live") -> DesiredResource:
    return DesiredResource(f"MixTask/{name}", "MixTask", name, "ali", "aliyun", lifecycle,  # type: ignore[arg-type]
                           spec if spec is not None else SPEC)


def record(spec: dict[str, Any] | None = None, lifecycle: str = "active", name: str = "live",
           retain: bool = False) -> ResourceRecord:
    return ResourceRecord(f"MixTask/{name}", "MixTask", name, "ali", "aliyun", {"TaskId": "t-1"}, 1,
                          spec if spec is not None else SPEC, lifecycle, "Retain" if retain else "Delete")


RUNNING = Observation("active", "status 1: running")


def test_new_resource_is_created_with_first_generation() -> None:
    change = plan_resource(desired(), None, None)
    assert change.action is Action.CREATE
    assert change.generation == 1
    assert change.reasons == ("new in the manifests",)
    assert change.display_action == "start"
    assert [f.path for f in change.fields] == ["channel", "layout", "output"]


def test_unchanged_running_resource_is_noop() -> None:
    change = plan_resource(desired(), record(), RUNNING)
    assert change.action is Action.NOOP
    assert change.fields == ()


def test_layout_change_is_an_in_place_update_with_field_diff() -> None:
    layout = {**LAYOUT, "panes": [{**LAYOUT["panes"][0], "user": "guest"}]}
    change = plan_resource(desired({**SPEC, "layout": layout}), record(), RUNNING)
    assert change.action is Action.UPDATE
    assert change.update_groups == ("layout",)
    assert change.display_action == "update-layout"
    assert [(f.path, f.before, f.after) for f in change.fields] == [("layout.panes[0].user", "host", "guest")]


def test_output_change_cannot_be_updated_so_it_is_replaced() -> None:
    spec = {**SPEC, "output": {"streamUrl": "rtmp://push.example.com/live/b", "encoding": "720p"}}
    change = plan_resource(desired(spec), record(), RUNNING)
    assert change.action is Action.REPLACE
    assert change.generation == 2
    assert change.reasons == ("output cannot be changed on a running MixTask at aliyun; it will be stopped and "
                              "started anew",)


def test_vendor_reports_stopped_is_drift_and_restarts() -> None:
    change = plan_resource(desired(), record(), Observation("inactive", "status 4: channel stopped"))
    assert change.action is Action.CREATE
    assert change.drift is True
    assert change.generation == 2
    assert change.reasons == ("drift: the vendor reports it is not running (status 4: channel stopped); "
                              "it will be started again",)


def test_stop_requested() -> None:
    change = plan_resource(desired(lifecycle="inactive"), record(), RUNNING)
    assert change.action is Action.STOP


def test_stopped_and_wanted_stopped_is_noop() -> None:
    assert plan_resource(desired(lifecycle="inactive"), record(lifecycle="inactive"),
                         Observation("inactive")).action is Action.NOOP
    assert plan_resource(desired(lifecycle="inactive"), None, None).action is Action.NOOP


def test_unknown_observation_falls_back_to_last_applied() -> None:
    layout = {**LAYOUT, "panes": [{**LAYOUT["panes"][0], "x": 0.25}]}
    assert plan_resource(desired(), record(), Observation("unknown")).action is Action.NOOP
    assert plan_resource(desired({**SPEC, "layout": layout}), record(), Observation("unknown")).action is Action.UPDATE


def test_observed_fields_override_last_applied_and_flag_drift() -> None:
    drifted = {**LAYOUT, "panes": [{**LAYOUT["panes"][0], "user": "intruder"}]}
    change = plan_resource(desired(), record(), Observation("active", fields={"layout": drifted}))
    assert change.action is Action.UPDATE
    assert change.drift is True
    assert change.reasons == ("drift: layout changed",)


def test_orphans_shown_without_prune_and_stopped_or_forgotten_with_it() -> None:
    records = {"MixTask/old": record(name="old"), "MixTask/kept": record(name="kept", retain=True),
               "MixTask/dead": record(name="dead", lifecycle="inactive")}
    observations = {"MixTask/old": RUNNING, "MixTask/kept": RUNNING, "MixTask/dead": Observation("absent")}
    plan = make_plan([], records, observations, state_serial=3, manifest_fingerprint="f", created_at="t")
    assert [(c.address, c.action, c.orphan) for c in plan.changes] == [
        ("MixTask/dead", Action.NOOP, True), ("MixTask/kept", Action.NOOP, True), ("MixTask/old", Action.NOOP, True)]
    assert not plan.has_changes
    assert plan.summary()["orphaned"] == 3
    pruned = make_plan([], records, observations, state_serial=3, manifest_fingerprint="f", created_at="t",
                       options=PlanOptions(prune=True, allow_empty=True))
    assert [(c.address, c.action) for c in pruned.changes] == [
        ("MixTask/dead", Action.FORGET), ("MixTask/kept", Action.FORGET), ("MixTask/old", Action.STOP)]


def test_targets_limit_the_plan() -> None:
    plan = make_plan([desired(name="a"), desired(name="b")], {}, {}, state_serial=0, manifest_fingerprint="f",
                     created_at="t", options=PlanOptions(targets=frozenset({"MixTask/b"})))
    assert [c.address for c in plan.changes] == ["MixTask/b"]


def test_plan_round_trips_through_json() -> None:
    plan = make_plan([desired()], {}, {}, state_serial=7, manifest_fingerprint="abc", created_at="2026-01-01T00:00:00Z")
    again = plan_from_dict(plan_to_dict(plan))
    assert again == plan
    assert plan_to_dict(plan)["summary"] == {"start": 1, "update": 0, "stop": 0, "resume": 0, "pause": 0,
                                             "replace": 0, "forget": 0, "unchanged": 0, "unverifiable": 0, "orphaned": 0}


def test_float_noise_is_not_a_change() -> None:
    layout = {**LAYOUT, "panes": [{**LAYOUT["panes"][0], "width": 0.5000000001}]}
    assert plan_resource(desired({**SPEC, "layout": layout}), record(), RUNNING).action is Action.NOOP
