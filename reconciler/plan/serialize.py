"""Plan <-> JSON-able dict, and the saved-plan file `reconciler plan --out` writes.

The schema is versioned by `format_version` and described by manifests/schema/plan.schema.json.
Version 2 added what `apply plan.json` needs to re-check a plan before executing it:
- `observed`: what each vendor reported, at plan time, for every job the state knew;
- `providers`: the Provider specs (vendor, app id, endpoint, credential *references*), so apply
  can reach the vendors without the manifests;
- `secret_files`: by Provider, every `{file: PATH}` reference as written, located when the manifests
  were validated: the operator-allowed root and the path below it (never the contents), so apply
  reads the same files from any working directory. (Older files carry `base_dir` instead: read, unused.)
These are optional in the schema: a plan printed without them can be shown but not applied.
Version 3 added `manifests`: the paths the plan was made from, a sha256 per manifest file found under
them, and the fingerprint of the whole set. `apply plan.json` finds the files again under the same
paths in the current checkout and refuses unless they are exactly those, so a plan made from one
tree (an old pull-request branch) is never applied to another (main after other merges).
Version 4 added `summary.unverifiable` and each change's `unverified` (why its live job was not observed).

Secrets are never in a plan: specs hold secret *references* only (`{"env": NAME}` / `{"file": PATH}`),
because the model redacts when it builds desired state, so serialising needs no redaction step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.errors import PlanError
from reconciler.plan.types import PLAN_FORMAT_VERSION, Action, Change, FieldChange, Plan
from reconciler.records import Observation
from reconciler.secret_files import SecretFile

READABLE_VERSIONS = (1, 2, 3, PLAN_FORMAT_VERSION)  # `show` reads them all; `apply` needs the current one


@dataclass(frozen=True)
class ManifestRecord:
    """The manifests a plan was made from: the paths as given, and a sha256 per file found under them."""

    roots: tuple[str, ...]
    files: Mapping[str, str]
    digest: str  # the manifest fingerprint of the whole set (paths and bytes)

    def to_dict(self) -> dict[str, Any]:
        return {"roots": list(self.roots), "files": dict(sorted(self.files.items())), "digest": self.digest}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> ManifestRecord:
        files = {str(k): str(v) for k, v in dict(data["files"]).items()}
        return ManifestRecord(tuple(str(r) for r in data["roots"]), files, str(data["digest"]))

    def differences(self, current: Mapping[str, str]) -> list[str]:
        """How the files found now (file -> sha256) differ from the recorded ones, one line each."""
        out = [f"{name}: changed since the plan was made" for name in sorted(self.files)
               if name in current and current[name] != self.files[name]]
        out += [f"{name}: not in the plan's manifests (added since)" for name in sorted(set(current) - set(self.files))]
        out += [f"{name}: in the plan's manifests but gone now" for name in sorted(set(self.files) - set(current))]
        return out


@dataclass(frozen=True)
class SavedPlan:
    """A plan read back from a file, with what apply needs to check it is still true."""

    plan: Plan
    observed: Mapping[str, Observation] | None = None  # None: the file has no observations
    providers: Mapping[str, Mapping[str, Any]] | None = None  # Provider name -> spec (references only)
    base_dir: str | None = None
    manifests: ManifestRecord | None = None
    secret_files: Mapping[str, Mapping[str, SecretFile]] | None = None

    @property
    def appliable(self) -> bool:
        return self.observed is not None and self.providers is not None and self.manifests is not None


def plan_to_dict(
    plan: Plan,
    *,
    observed: Mapping[str, Observation] | None = None,
    providers: Mapping[str, Mapping[str, Any]] | None = None,
    base_dir: str | None = None,
    manifests: ManifestRecord | None = None,
    secret_files: Mapping[str, Mapping[str, SecretFile]] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "format_version": plan.format_version,
        "created_at": plan.created_at,
        "state_serial": plan.state_serial,
        "manifest_fingerprint": plan.manifest_fingerprint,
        "prune": plan.prune,
        "summary": plan.summary(),
        "warnings": list(plan.warnings),
        "changes": [change_to_dict(c) for c in plan.changes],
    }
    if observed is not None:
        data["observed"] = {address: observation_to_dict(o) for address, o in sorted(observed.items())}
    if providers is not None:
        data["providers"] = {name: dict(spec) for name, spec in sorted(providers.items())}
        if base_dir is not None:
            data["base_dir"] = base_dir
        data["secret_files"] = {provider: {written: f.as_data() for written, f in sorted(files.items())}
                                for provider, files in sorted((secret_files or {}).items())}
    if manifests is not None:
        data["manifests"] = manifests.to_dict()
    return data


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
        "wait_for": list(change.wait_for),
        "reasons": list(change.reasons),
        "fields": [{"path": f.path, "before": f.before, "after": f.after} for f in change.fields],
        "before": change.before,
        "after": change.after,
        "unverified": change.unverified,
    }


def observation_to_dict(observation: Observation) -> dict[str, Any]:
    return {
        "status": observation.status,
        "detail": observation.detail,
        "fields": dict(observation.fields),
        "handles": dict(observation.handles),
    }


def observation_from_dict(data: Mapping[str, Any]) -> Observation:
    status = data["status"]
    if status not in ("active", "paused", "inactive", "absent", "unknown"):
        raise ValueError(f"unknown observed status {status!r}")
    return Observation(status, str(data.get("detail", "")), dict(data.get("fields", {})),
                       {str(k): str(v) for k, v in dict(data.get("handles", {})).items()})


def plan_from_dict(data: Mapping[str, Any]) -> Plan:
    return saved_plan_from_dict(data).plan


def saved_plan_from_dict(data: Mapping[str, Any]) -> SavedPlan:
    if not isinstance(data, Mapping) or "format_version" not in data:
        raise PlanError("not a reconciler plan file: no format_version; write one with `reconciler plan --out FILE`")
    version = data["format_version"]
    if version not in READABLE_VERSIONS:
        raise PlanError(
            f"plan format_version {version} is not supported by this reconciler (it reads "
            f"{', '.join(map(str, READABLE_VERSIONS))}); re-run `reconciler plan --out` with this version"
        )
    try:
        changes = tuple(_change_from_dict(c) for c in data["changes"])
        plan = Plan(
            changes=changes,
            state_serial=int(data["state_serial"]),
            manifest_fingerprint=str(data["manifest_fingerprint"]),
            created_at=str(data["created_at"]),
            prune=bool(data.get("prune", False)),
            format_version=int(version),
            warnings=tuple(data.get("warnings", ())),
        )
        observed = None
        if "observed" in data:
            observed = {str(a): observation_from_dict(o) for a, o in dict(data["observed"]).items()}
        providers = None
        if "providers" in data:
            providers = {str(n): dict(s) for n, s in dict(data["providers"]).items()}
        base_dir = data.get("base_dir")
        manifests = ManifestRecord.from_dict(data["manifests"]) if "manifests" in data else None
        secret_files = None
        if "secret_files" in data:
            secret_files = {str(p): {str(w): SecretFile.from_data(f) for w, f in dict(files).items()}
                            for p, files in dict(data["secret_files"]).items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PlanError(f"not a reconciler plan file: {exc.__class__.__name__}: {exc}") from exc
    return SavedPlan(plan, observed, providers, str(base_dir) if base_dir is not None else None, manifests,
                     secret_files)


def _change_from_dict(c: Mapping[str, Any]) -> Change:
    return Change(
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
        unverified=str(c.get("unverified", "")),
        wait_for=tuple(str(a) for a in c.get("wait_for", ())),
    )


def observation_changes(
    then: Mapping[str, Observation], now: Mapping[str, Observation], addresses: list[str]
) -> list[str]:
    """What the vendors report differently now than when the plan was made, one line per resource.

    Only status, reported fields and vendor ids count; `detail` is prose and may vary between calls.
    An address with no observation on either side had no job to observe (not in state then or now).
    """
    out = []
    for address in addresses:
        before, after = then.get(address), now.get(address)
        if before is None and after is None:
            continue
        if before is None or after is None:
            was = _describe(before) if before else "nothing to observe (not in state)"
            out.append(f"{address}: the vendor reported {was} at plan time, now {_describe(after) if after else 'nothing'}")
            continue
        if before.status != after.status:
            out.append(f"{address}: the vendor reported {_describe(before)} at plan time, now {_describe(after)}")
            continue
        keys = sorted(k for k in set(before.fields) | set(after.fields) if before.fields.get(k) != after.fields.get(k))
        if keys:
            out.append(f"{address}: {', '.join(keys)} changed at the vendor since the plan was made")
        elif dict(before.handles) != dict(after.handles):
            out.append(f"{address}: the vendor ids changed since the plan was made "
                       f"({_ids(before.handles)} -> {_ids(after.handles)})")
    return out


def _describe(observation: Observation) -> str:
    return observation.status + (f" ({observation.detail})" if observation.detail else "")


def _ids(handles: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(handles.items())) or "none"
