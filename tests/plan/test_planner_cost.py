"""DeepDiff runs only where the canonical forms differ; its answers (and so the plan) are unchanged."""

from __future__ import annotations

import copy
from typing import Any

import deepdiff
import pytest

from reconciler.plan import Action, planner
from reconciler.plan.planner import plan_resource
from tests.plan.test_planner import LAYOUT, RUNNING, SPEC, desired, record


@pytest.fixture
def deepdiff_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = deepdiff.DeepDiff

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(deepdiff, "DeepDiff", counting)
    monkeypatch.setattr(planner, "DeepDiff", counting, raising=False)  # wherever the planner finds it
    return calls


def test_unchanged_resources_never_reach_deepdiff(deepdiff_calls: list[int]) -> None:
    for i in range(50):
        change = plan_resource(desired(copy.deepcopy(SPEC), name=f"t{i}"), record(SPEC, name=f"t{i}"), RUNNING)
        assert change.action is Action.NOOP and change.fields == ()
    assert deepdiff_calls == []


def test_a_changed_resource_still_gets_deepdiffs_field_paths(deepdiff_calls: list[int]) -> None:
    layout = {**LAYOUT, "panes": [{**LAYOUT["panes"][0], "x": 0.25}]}
    change = plan_resource(desired({**SPEC, "layout": layout}), record(), RUNNING)
    assert [(f.path, f.before, f.after) for f in change.fields] == [("layout.panes[0].x", 0.0, 0.25)]
    assert deepdiff_calls == [1]


@pytest.mark.parametrize(("old", "new", "changed"), [
    (1, 1.0, True),  # an int against a float is a type change for DeepDiff: not short-cut away
    (0.1234567, 0.12345671, False),  # equal to 6 significant digits: DeepDiff's tolerance decides
    (True, 1, True),
    ([1, 2], [1, 2], False),
])
def test_values_equal_only_loosely_are_left_to_deepdiff(old: Any, new: Any, changed: bool) -> None:
    before = {**SPEC, "output": {**SPEC["output"], "extra": old}}
    after = {**SPEC, "output": {**SPEC["output"], "extra": new}}
    change = plan_resource(desired(after), record(before), RUNNING)
    assert bool(change.fields) is changed
