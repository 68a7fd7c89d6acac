"""Do two plans make the same changes? The deploy workflow's question after a merge.

The plan reviewed in a pull request was made from the branch; the plan made from the merge commit is
what main says now. When both would make exactly the same vendor writes (same resources, actions and
target specs, same prune), the reviewed plan's approval covers the new one; otherwise a person must
approve the new plan. Times, state serials, manifest digests and prose reasons do not count.
"""

from __future__ import annotations

from typing import Any

from reconciler.plan.types import Change, Plan


def _effect(change: Change) -> dict[str, Any]:
    """What apply would do for this change: the fields that steer it, and the target spec."""
    return {"action": change.action.value, "verb": change.display_action, "after": change.after,
            "handles": dict(change.handles), "update_groups": list(change.update_groups),
            "lifecycle": change.lifecycle, "deletion_policy": change.deletion_policy, "orphan": change.orphan}


def _effects(plan: Plan) -> dict[str, dict[str, Any]]:
    return {c.address: _effect(c) for c in plan.changes if c.action.writes}


def plan_differences(reviewed: Plan, fresh: Plan) -> list[str]:
    """One line per difference in what the two plans would do; empty when they make the same changes."""
    out = []
    if reviewed.prune != fresh.prune:
        out.append(f"prune: reviewed {reviewed.prune}, now {fresh.prune}")
    then, now = _effects(reviewed), _effects(fresh)
    for address in sorted(set(then) | set(now)):
        before, after = then.get(address), now.get(address)
        if before == after:
            continue
        if before is None:
            assert after is not None
            out.append(f"{address}: not in the reviewed plan; the new plan would {after['verb']} it")
        elif after is None:
            out.append(f"{address}: the reviewed plan would {before['verb']} it; the new plan leaves it alone")
        elif before["verb"] != after["verb"]:
            out.append(f"{address}: the reviewed plan would {before['verb']} it; the new plan would {after['verb']} it")
        else:
            keys = sorted(k for k in before if before[k] != after[k])
            out.append(f"{address}: {after['verb']} with different {', '.join(keys)}")
    return out
