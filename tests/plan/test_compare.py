"""`plan_differences`: the deploy's question, do two plans make the same vendor writes?"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reconciler.plan import Action
from reconciler.plan.compare import plan_differences
from reconciler.plan.types import Change, Plan


def change(name: str, action: Action = Action.UPDATE, **after: Any) -> Change:
    return Change(address=f"MixTask/{name}", kind="MixTask", name=name, provider="ali", vendor="aliyun",
                  action=action, before={"layout": "a"}, after={"layout": "b", **after},
                  handles={"TaskId": name}, reasons=("layout changed",), verb="update-layout")


def plan(*changes: Change, serial: int = 3, created: str = "2026-01-01T00:00:00Z", prune: bool = False) -> Plan:
    return Plan(changes=changes, state_serial=serial, manifest_fingerprint="f" * 64, created_at=created, prune=prune)


def test_plans_with_the_same_writes_are_the_same_whatever_their_time_serial_and_reasons() -> None:
    reviewed = plan(change("a"), change("b", Action.NOOP))
    fresh = plan(replace(change("a"), reasons=("other words",)), serial=9, created="2026-02-02T00:00:00Z")
    assert plan_differences(reviewed, fresh) == []


def test_every_difference_in_what_would_be_done_is_named() -> None:
    reviewed = plan(change("a"), change("b"), change("c"))
    fresh = plan(change("a", channel="x"), replace(change("b"), action=Action.STOP, verb="stop"), change("d"),
                 prune=True)
    assert plan_differences(reviewed, fresh) == [
        "prune: reviewed False, now True",
        "MixTask/a: update-layout with different after",
        "MixTask/b: the reviewed plan would update-layout it; the new plan would stop it",
        "MixTask/c: the reviewed plan would update-layout it; the new plan leaves it alone",
        "MixTask/d: not in the reviewed plan; the new plan would update-layout it",
    ]
