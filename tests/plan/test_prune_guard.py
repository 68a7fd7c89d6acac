"""The prune guard and target checks are pure: data in, plan out, no sockets."""

from __future__ import annotations

import pytest

from reconciler.errors import PlanError
from reconciler.model.desired import DesiredResource
from reconciler.plan import Action, PlanOptions, make_plan
from reconciler.plan.guard import check_targets, prune_guard
from reconciler.records import Observation, ResourceRecord

SPEC = {"channel": "c"}
RUNNING = Observation("active")


def desired(name: str, provider: str = "ali") -> DesiredResource:
    return DesiredResource(f"MixTask/{name}", "MixTask", name, provider, "aliyun", "active", SPEC)


def record(name: str, provider: str = "ali", retain: bool = False) -> ResourceRecord:
    return ResourceRecord(f"MixTask/{name}", "MixTask", name, provider, "aliyun", {"TaskId": name}, 1, SPEC,
                          "active", "Retain" if retain else "Delete")


def plan(wanted: list[DesiredResource], records: list[ResourceRecord], **options: bool):  # type: ignore[no-untyped-def]
    by_address = {r.address: r for r in records}
    return make_plan(wanted, by_address, {a: RUNNING for a in by_address}, state_serial=1,
                     manifest_fingerprint="f", created_at="t", options=PlanOptions(**options))


def test_empty_manifests_never_prune_without_allow_empty() -> None:
    records = [record("a"), record("b", provider="other")]
    guarded = plan([], records, prune=True)
    assert [(c.address, c.action) for c in guarded.changes] == [("MixTask/a", Action.NOOP), ("MixTask/b", Action.NOOP)]
    assert not guarded.has_changes
    assert guarded.warnings == (
        ("prune guard: the manifests hold no managed resources, so none of the 2 resource(s) in state "
        "(MixTask/a, MixTask/b) will be stopped or forgotten. Check the paths given; if you really mean to "
        "remove them all, run again with --prune --allow-empty"),)
    assert guarded.changes[0].reasons == (
        "removed from the manifests; kept by the prune guard (`--prune --allow-empty` would stop it)",)
    allowed = plan([], records, prune=True, allow_empty=True)
    assert [c.action for c in allowed.changes] == [Action.STOP, Action.STOP]
    assert allowed.warnings == ()


def test_a_provider_that_lost_every_resource_is_guarded_while_others_prune() -> None:
    records = [record("a1"), record("a2", retain=True), record("b1", provider="other"), record("b2", provider="other")]
    result = plan([desired("b1", provider="other")], records, prune=True)
    actions = {c.address: c.action for c in result.changes}
    assert actions == {"MixTask/a1": Action.NOOP, "MixTask/a2": Action.NOOP, "MixTask/b1": Action.NOOP,
                       "MixTask/b2": Action.STOP}
    assert result.warnings == (
        ("prune guard: every resource of Provider/ali left the manifests at once (2 in state: MixTask/a1, "
        "MixTask/a2); they are not stopped or forgotten. If that is what you want, run again with "
        "--prune --allow-empty"),)
    allowed = plan([desired("b1", provider="other")], records, prune=True, allow_empty=True)
    assert {c.address: c.action for c in allowed.changes}["MixTask/a1"] is Action.STOP
    assert {c.address: c.action for c in allowed.changes}["MixTask/a2"] is Action.FORGET  # Retain


def test_removing_part_of_a_provider_prunes_normally_and_without_prune_nothing_is_guarded() -> None:
    records = [record("a1"), record("a2")]
    assert [c.action for c in plan([desired("a1")], records, prune=True).changes] == [Action.NOOP, Action.STOP]
    assert plan([desired("a1")], records, prune=True).warnings == ()
    unpruned = plan([], records)
    assert unpruned.warnings == ()
    assert unpruned.changes[0].reasons == ("removed from the manifests; `apply --prune` would stop it",)


def test_guard_lists_a_few_addresses_and_counts_the_rest() -> None:
    records = {f"MixTask/t{i}": record(f"t{i}") for i in range(8)}
    guard = prune_guard([], records, prune=True, allow_empty=False)
    assert guard.blocked == frozenset({"ali"})
    assert "(MixTask/t0, MixTask/t1, MixTask/t2, MixTask/t3, MixTask/t4 and 3 more)" in guard.warnings[0]


def test_targets_must_name_known_resources_with_a_did_you_mean() -> None:
    known = {"MixTask/townhall-live", "MixTask/standup-grid", "Recording/townhall-archive"}
    check_targets({"MixTask/standup-grid"}, known)
    with pytest.raises(PlanError) as raised:
        check_targets({"MixTask/townhall-lve", "mixtask/standup-grid", "townhall", "MixTask/zzz"}, known)
    assert str(raised.value).splitlines() == [
        ("--target 'MixTask/townhall-lve' is not a resource of the manifests or the state; did you mean "
         "'MixTask/townhall-live'?"),
        "--target 'MixTask/zzz' is not a resource of the manifests or the state",
        ("--target 'mixtask/standup-grid' is not a resource of the manifests or the state; did you mean "
         "'MixTask/standup-grid'?"),
        "--target 'townhall' is not of the form KIND/NAME (e.g. MixTask/townhall-live)",
    ]
