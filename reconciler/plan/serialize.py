"""Plan <-> JSON-able dict. The schema is versioned by `format_version`; secrets are never in a plan
(specs hold secret *references* only), so serialising needs no redaction step."""

from __future__ import annotations

from typing import Any

from reconciler.errors import PlanError
from reconciler.plan.types import PLAN_FORMAT_VERSION, Action, Change, FieldChange, Plan


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "format_version": plan.format_version,
        "created_at": plan.created_at,
        "state_serial": plan.state_serial,
        "manifest_fingerprint": plan.manifest_fingerprint,
        "prune": plan.prune,
        "summary": plan.summary(),
        "warnings": list(plan.warnings),
        "changes": [change_to_dict(c) for c in plan.changes],
    }


def change_to_dict(change: Change) -> dict[str, Any]:
    return {
        "address": change.address,
        "kind": change.kind,
        "name": change.name,
        "provider": change.provider,
        "vendor": change.vendor,
        "action": change.action.value,
        "verb": change.display_action,
        "lifecycle": change.lifecycle,
        "orphan": change.orphan,
        "drift": change.drift,
        "generation": change.generation,
        "handles": dict(change.handles),
        "update_groups": list(change.update_groups),
        "deletion_policy": change.deletion_policy,
        "reasons": list(change.reasons),
        "fields": [{"path": f.path, "before": f.before, "after": f.after} for f in change.fields],
        "before": change.before,
        "after": change.after,
    }


def plan_from_dict(data: dict[str, Any]) -> Plan:
    try:
        version = data["format_version"]
        if version != PLAN_FORMAT_VERSION:
            raise PlanError(
                f"plan format_version {version} is not supported by this reconciler (it reads {PLAN_FORMAT_VERSION}); "
                "re-run `reconciler plan --out` with this version"
            )
        changes = tuple(
            Change(
                address=c["address"],
                kind=c["kind"],
                name=c["name"],
                provider=c["provider"],
                vendor=c["vendor"],
                action=Action(c["action"]),
                before=c.get("before"),
                after=c.get("after"),
                handles=dict(c.get("handles", {})),
                generation=int(c.get("generation", 0)),
                update_groups=tuple(c.get("update_groups", ())),
                fields=tuple(FieldChange(f["path"], f.get("before"), f.get("after")) for f in c.get("fields", ())),
                reasons=tuple(c.get("reasons", ())),
                orphan=bool(c.get("orphan", False)),
                drift=bool(c.get("drift", False)),
                verb=c.get("verb", ""),
                lifecycle=c.get("lifecycle", ""),
                deletion_policy=c.get("deletion_policy", "Delete"),
            )
            for c in data["changes"]
        )
        return Plan(
            changes=changes,
            state_serial=int(data["state_serial"]),
            manifest_fingerprint=str(data["manifest_fingerprint"]),
            created_at=str(data["created_at"]),
            prune=bool(data.get("prune", False)),
            warnings=tuple(data.get("warnings", ())),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanError(f"not a reconciler plan file: {exc.__class__.__name__}: {exc}") from exc
