"""Desired state + remembered state + observations -> Plan. A pure function: no I/O, no clock reads.

The rules, per managed resource:
- nothing runs at the vendor (no record, no handles, or the vendor reports it stopped/absent) and the
  manifest wants it active -> create (a drift repair when the last applied state was active);
- it runs and the manifest wants it inactive -> stop (StreamRule: resume);
- it runs and fields differ -> update when every changed key is an update group of the vendor,
  otherwise replace with the reason; then pause/resume for lifecycle changes;
- in state but not in the manifests -> an orphan: shown always, stopped (or forgotten, for
  `deletionPolicy: Retain` and for jobs that no longer run) only with prune, and never when the
  prune guard (plan/guard.py) holds them back without `allow_empty`.
Vendors that cannot report a field are compared against the last applied value, as Terraform does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from reconciler.capabilities import KindCapabilities, capabilities
from reconciler.gcpause import without_collector
from reconciler.model.desired import DesiredResource
from reconciler.plan.guard import prune_guard
from reconciler.plan.types import Action, Change, FieldChange, Plan
from reconciler.records import Observation, ResourceRecord

# an update group that is not a spec key: apply resumes the job after updating it
RESUME_AFTER_UPDATE = "resumeToken"


@dataclass(frozen=True)
class Diffed:
    """One resource's change, worked out from the record and observation it names (`diff_now`). An
    apply diffs each resource as its observation comes in, while other calls are still in flight;
    `make_plan` takes the change only if it is given these very record and observation objects."""

    record: ResourceRecord | None
    observation: Observation | None
    change: Change


def diff_now(desired: DesiredResource, record: ResourceRecord | None, observation: Observation | None) -> Diffed:
    return Diffed(record, observation, plan_resource(desired, record, observation))


@dataclass(frozen=True)
class PlanOptions:
    prune: bool = False
    targets: frozenset[str] = frozenset()  # addresses; empty = everything
    allow_empty: bool = False  # let prune act although a provider (or every provider) lost all its resources


@without_collector
def make_plan(
    desired: Iterable[DesiredResource],
    records: Mapping[str, ResourceRecord],
    observations: Mapping[str, Observation],
    *,
    state_serial: int,
    manifest_fingerprint: str,
    created_at: str,
    options: PlanOptions = PlanOptions(),
    warnings: tuple[str, ...] = (),
    diffed: Mapping[str, Diffed] | None = None,
) -> Plan:
    changes: list[Change] = []
    early = diffed or {}
    wanted = {d.address: d for d in desired}
    guard = prune_guard(wanted.values(), records, prune=options.prune, allow_empty=options.allow_empty)
    targets = options.targets | {dep for a in options.targets if a in wanted for dep in wanted[a].depends_on}
    for address in sorted(wanted):
        if targets and address not in targets:
            continue
        record, observation = records.get(address), observations.get(address)
        done = early.get(address)
        if done is not None and done.record is record and done.observation is observation:
            changes.append(done.change)  # the same inputs: the change worked out while calls were in flight
        else:
            changes.append(plan_resource(wanted[address], record, observation))
    for address in sorted(set(records) - set(wanted)):
        if options.targets and address not in options.targets:
            continue
        guarded = guard.blocks(records[address])
        changes.append(plan_orphan(records[address], observations.get(address), prune=options.prune and not guarded,
                                   guarded=guarded))
    return Plan(
        changes=_order_removals(_repoint(changes)),
        state_serial=state_serial,
        manifest_fingerprint=manifest_fingerprint,
        created_at=created_at,
        prune=options.prune,
        warnings=warnings + guard.warnings,
    )


def _repoint(changes: list[Change]) -> list[Change]:
    """A live job whose dependency is created anew (a custom layout deleted behind our back gets a new
    LayoutId) is updated after it, so it refers to the new id."""
    renewed = {c.address for c in changes if c.action in (Action.CREATE, Action.REPLACE)}
    out = []
    for change in changes:
        group = capabilities(change.vendor, change.kind).dependency_group
        deps = [a for a in change.wait_for if a in renewed]
        if change.action is Action.NOOP and not change.orphan and group and deps and change.handles \
                and change.lifecycle != "inactive":
            change = replace(change, action=Action.UPDATE, update_groups=(group,),
                             verb=capabilities(change.vendor, change.kind).update_groups[group],
                             reasons=(f"{', '.join(deps)} is created anew: the job is pointed at it",))
        out.append(change)
    return out


def _order_removals(changes: list[Change]) -> tuple[Change, ...]:
    """A removed resource that others use (an Aliyun custom layout) goes after its provider's other changes,
    so no job still refers to it when it is deleted."""
    out = []
    for change in changes:
        if change.orphan and change.action.writes and capabilities(change.vendor, change.kind).supports_others:
            jobs = [c for c in changes if c.provider == change.provider
                    and not capabilities(c.vendor, c.kind).supports_others]
            if any(c.orphan and c.action is Action.FORGET and c.deletion_policy == "Retain" for c in jobs):
                change = replace(change, action=Action.FORGET, verb="forget", deletion_policy="Retain", reasons=(
                    "a job of this provider kept by deletionPolicy: Retain may still use it: left at the vendor, "
                    "dropped from state",))
            else:
                change = replace(change, wait_for=tuple(c.address for c in jobs if c.action.writes))
        out.append(change)
    return tuple(out)


def live_status(record: ResourceRecord | None, observation: Observation | None) -> str:
    """active | paused | inactive: what runs at the vendor, falling back to state when unknown."""
    if record is None or not record.handles:
        return "inactive"
    if observation is None or observation.status == "unknown":
        return record.lifecycle
    if observation.status == "absent":
        return "inactive"
    return observation.status


def plan_resource(
    desired: DesiredResource, record: ResourceRecord | None, observation: Observation | None
) -> Change:
    change = _plan_resource(desired, record, observation)
    pending = _pending_intent(record)
    if pending:
        return replace(change, reasons=change.reasons + (pending,))
    return change


def _plan_resource(
    desired: DesiredResource, record: ResourceRecord | None, observation: Observation | None
) -> Change:
    caps = capabilities(desired.vendor, desired.kind)
    live = live_status(record, observation)
    generation = record.generation if record else 0
    handles = dict(record.handles) if record else {}
    before = _live_spec(record, observation)
    base = dict(
        address=desired.address,
        kind=desired.kind,
        name=desired.name,
        provider=desired.provider,
        vendor=desired.vendor,
        before=before,
        after=desired.spec,
        handles=handles,
        generation=generation,
        lifecycle=desired.lifecycle,
        deletion_policy=desired.deletion_policy,
        wait_for=desired.depends_on,
    )
    detail = observation.detail if observation and observation.detail else ""
    base["unverified"] = _unverified(record, observation)

    if live == "inactive":
        if desired.lifecycle == "inactive":
            return Change(action=Action.NOOP, **base)  # type: ignore[arg-type]
        drift = record is not None and record.lifecycle in ("active", "paused") and bool(record.handles)
        if drift:
            reason = f"drift: the vendor reports it is not running ({detail or 'gone'}); it will be started again"
        elif record is not None and record.handles:
            reason = "not running; the manifest asks for it to run"
        else:
            reason = "new in the manifests"
        base["generation"] = generation + 1
        base["before"] = None
        return Change(
            action=Action.CREATE,
            fields=_field_changes(None, desired.spec, caps),
            reasons=(reason,),
            drift=drift,
            verb=caps.start_verb,
            **base,  # type: ignore[arg-type]
        )

    if desired.lifecycle == "inactive":
        action = Action.RESUME if caps.deactivate_is_resume else Action.STOP
        return Change(
            action=action,
            reasons=("the manifest asks for it to stop",),
            verb=caps.stop_verb,
            **base,  # type: ignore[arg-type]
        )

    fields = _field_changes(before, desired.spec, caps)
    changed_keys = {f.path.split(".")[0].split("[")[0] for f in fields}
    fixed = sorted(k for k in changed_keys if k not in caps.update_groups)
    drift = bool(observation and observation.fields and _differs(record, observation))
    if fixed:
        base["generation"] = generation + 1
        names = ", ".join(fixed)
        return Change(
            action=Action.REPLACE,
            fields=fields,
            reasons=(f"{names} cannot be changed on a running {desired.kind} at {desired.vendor}; "
                     "it will be stopped and started anew",),
            drift=drift,
            verb="replace",
            **base,  # type: ignore[arg-type]
        )
    if changed_keys:
        groups = tuple(sorted(changed_keys))
        verb = "+".join(dict.fromkeys(caps.update_groups[g] for g in groups))
        reasons = [("drift: " if drift else "") + f"{', '.join(groups)} changed"]
        if desired.lifecycle != live:
            reasons.append(f"then {'resume' if desired.lifecycle == 'active' else 'pause'}")
        if caps.resume_on_token and _token(before) != _token(desired.spec) and desired.spec.get("resumeToken"):
            groups += (RESUME_AFTER_UPDATE,)  # both asked for in one commit: neither may be lost
            fields += (FieldChange("resumeToken", _token(before), _token(desired.spec)),)
            verb += "+resume"
            reasons.append("then resume: resumeToken changed")
        return Change(
            action=Action.UPDATE,
            fields=fields,
            update_groups=groups,
            reasons=tuple(reasons),
            drift=drift,
            verb=verb,
            **base,  # type: ignore[arg-type]
        )
    if live == "paused" and desired.lifecycle == "active":
        return Change(action=Action.RESUME, reasons=("paused; the manifest asks for it to run",), verb="resume",
                      **base)  # type: ignore[arg-type]
    if live == "active" and desired.lifecycle == "paused":
        return Change(action=Action.PAUSE, reasons=("the manifest asks for it to pause",), verb="pause",
                      **base)  # type: ignore[arg-type]
    if caps.resume_on_token and _token(before) != _token(desired.spec) and desired.spec.get("resumeToken"):
        return Change(
            action=Action.RESUME,
            fields=(FieldChange("resumeToken", _token(before), _token(desired.spec)),),
            reasons=("resumeToken changed: a one-off resume was asked for",),
            verb="resume",
            **base,  # type: ignore[arg-type]
        )
    return Change(action=Action.NOOP, **base)  # type: ignore[arg-type]


def plan_orphan(record: ResourceRecord, observation: Observation | None, *, prune: bool,
                guarded: bool = False) -> Change:
    caps = capabilities(record.vendor, record.kind)
    live = live_status(record, observation)
    base = dict(
        address=record.address,
        kind=record.kind,
        name=record.name,
        provider=record.provider,
        vendor=record.vendor,
        before=_live_spec(record, observation),
        after=None,
        handles=dict(record.handles),
        generation=record.generation,
        orphan=True,
        lifecycle="inactive",
        deletion_policy=record.deletion_policy,
        unverified=_unverified(record, observation),
    )
    if not prune:
        what = f"{caps.stop_verb} it" if live != "inactive" else "forget it"
        if record.deletion_policy == "Retain":
            what = "forget it (deletionPolicy: Retain keeps it running)"
        reason = f"removed from the manifests; `apply --prune` would {what}"
        if guarded:
            reason = f"removed from the manifests; kept by the prune guard (`--prune --allow-empty` would {what})"
        return Change(
            action=Action.NOOP,
            reasons=(reason,),
            **base,  # type: ignore[arg-type]
        )
    if record.deletion_policy == "Retain" or live == "inactive":
        why = ("deletionPolicy: Retain: left running at the vendor, dropped from state"
               if record.deletion_policy == "Retain" else "removed from the manifests and no longer running")
        return Change(action=Action.FORGET, reasons=(why,), verb="forget", **base)  # type: ignore[arg-type]
    action = Action.RESUME if caps.deactivate_is_resume else Action.STOP
    return Change(action=action, reasons=("removed from the manifests (prune)",), verb=caps.stop_verb,
                  **base)  # type: ignore[arg-type]


def _unverified(record: ResourceRecord | None, observation: Observation | None) -> str:
    """Why the live job was not observed, or "" when it was (or when the state knows of no job)."""
    if record is None or not record.handles:
        return ""
    if observation is None:
        return "not observed: its Provider is not in the manifests"
    if observation.status == "unknown":
        return observation.detail or "the vendor did not report it"
    return ""


def _pending_intent(record: ResourceRecord | None) -> str:
    if record is None or record.intent is None:
        return ""
    return (f"an earlier {record.intent.operation} (at {record.intent.started_at}) has an unknown outcome; "
            "apply asks the vendor first and writes nothing here until it answers")


def _live_spec(record: ResourceRecord | None, observation: Observation | None) -> dict[str, Any] | None:
    if record is None or record.last_applied is None:
        return None
    live = dict(record.last_applied)
    if observation is not None:
        live.update(observation.fields)
    return live


def _differs(record: ResourceRecord | None, observation: Observation) -> bool:
    applied = record.last_applied if record and record.last_applied else {}
    return any(applied.get(k) != v for k, v in observation.fields.items())


def _token(spec: Mapping[str, Any] | None) -> Any:
    return (spec or {}).get("resumeToken")


def _identical(old: Any, new: Any) -> bool:
    """Equal values of equal types all the way down: exactly when DeepDiff would report nothing without
    needing its tolerance (an int against a float, or floats equal only to 6 digits, go to DeepDiff)."""
    if type(old) is not type(new):
        return False
    if isinstance(old, dict):
        return old.keys() == new.keys() and all(_identical(v, new[k]) for k, v in old.items())
    if isinstance(old, (list, tuple)):
        return len(old) == len(new) and all(_identical(a, b) for a, b in zip(old, new, strict=True))
    return bool(old == new)


_PATH_PART = re.compile(r"\['([^']*)'\]|\[(\d+)\]")


def _path(deepdiff_path: str) -> str:
    out = ""
    for key, index in _PATH_PART.findall(deepdiff_path):
        if index:
            out += f"[{index}]"
        else:
            out += f".{key}" if out else key
    return out


def _field_changes(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, caps: KindCapabilities
) -> tuple[FieldChange, ...]:
    skip = set(caps.ignored) | {"resumeToken"}
    old = {k: v for k, v in (before or {}).items() if k not in skip}
    new = {k: v for k, v in (after or {}).items() if k not in skip}
    if before is None:
        return tuple(FieldChange(k, None, new[k]) for k in sorted(new))
    if repr(old) == repr(new) or _identical(old, new):  # equal reprs of JSON-like data: equal values and types
        return ()  # the common case (nothing changed) costs one walk, not a DeepDiff
    from deepdiff import DeepDiff  # imported only when something differs: validate and --help never pay for it

    diff = DeepDiff(old, new, verbose_level=2, significant_digits=6)
    out: list[FieldChange] = []
    for kind, items in diff.items():
        if kind in ("values_changed", "type_changes"):
            for path, change in items.items():
                out.append(FieldChange(_path(path), change.get("old_value"), change.get("new_value")))
        elif kind in ("dictionary_item_added", "iterable_item_added"):
            for path, value in items.items():
                out.append(FieldChange(_path(path), None, value))
        elif kind in ("dictionary_item_removed", "iterable_item_removed"):
            for path, value in items.items():
                out.append(FieldChange(_path(path), value, None))
    return tuple(sorted(out, key=lambda f: f.path))
