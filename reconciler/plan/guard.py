"""Checks that stop a plan from doing something drastic by accident. Pure functions over data.

Prune guard (Argo CD's allowEmpty): a manifest set with no managed resources at all, or one that
lost every resource of a Provider at once, looks exactly like a deleted directory, a mis-typed path
or a half-merged branch. With `--prune` such a plan would stop everything that provider runs, so
the orphans it covers are not pruned unless `--allow-empty` is given too; the plan says why.

Targets: `--target KIND/NAME` must name a resource of the manifests or of the state; an unknown
target is an error with a did-you-mean rather than a plan that silently does nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from reconciler.errors import PlanError
from reconciler.model.desired import DesiredResource
from reconciler.records import ResourceRecord

LISTED = 5  # addresses named in a warning before "and N more"


@dataclass(frozen=True)
class PruneGuard:
    blocked: frozenset[str]  # Provider names whose orphans are kept despite --prune
    warnings: tuple[str, ...] = ()

    def blocks(self, record: ResourceRecord) -> bool:
        return record.provider in self.blocked


def prune_guard(
    desired: Iterable[DesiredResource],
    records: Mapping[str, ResourceRecord],
    *,
    prune: bool,
    allow_empty: bool,
) -> PruneGuard:
    """Which providers' orphans a pruning plan must keep, and the warnings that explain it."""
    if not prune or allow_empty:
        return PruneGuard(frozenset())
    wanted = list(desired)
    addresses = {d.address for d in wanted}
    orphans = [r for address, r in sorted(records.items()) if address not in addresses]
    if not orphans:
        return PruneGuard(frozenset())
    if not wanted:
        warning = (f"prune guard: the manifests hold no managed resources, so none of the {len(orphans)} "
                   f"resource(s) in state ({_listing(orphans)}) will be stopped or forgotten. Check the paths "
                   "given; if you really mean to remove them all, run again with --prune --allow-empty")
        return PruneGuard(frozenset(r.provider for r in orphans), (warning,))
    kept = {d.provider for d in wanted}
    by_provider: dict[str, list[ResourceRecord]] = {}
    for record in orphans:
        if record.provider not in kept:
            by_provider.setdefault(record.provider, []).append(record)
    warnings = tuple(
        f"prune guard: every resource of Provider/{provider} left the manifests at once ({len(lost)} in state: "
        f"{_listing(lost)}); they are not stopped or forgotten. If that is what you want, run again with "
        "--prune --allow-empty"
        for provider, lost in sorted(by_provider.items())
    )
    return PruneGuard(frozenset(by_provider), warnings)


def _listing(records: list[ResourceRecord]) -> str:
    names = [r.address for r in records]
    if len(names) <= LISTED:
        return ", ".join(names)
    return ", ".join(names[:LISTED]) + f" and {len(names) - LISTED} more"


def check_targets(targets: Collection[str], known: Collection[str]) -> None:
    """Raise PlanError naming every target that is neither in the manifests nor in state."""
    problems = []
    for target in sorted(targets):
        if target in known:
            continue
        if "/" not in target:
            problems.append(f"--target {target!r} is not of the form KIND/NAME (e.g. MixTask/townhall-live)")
            continue
        by_case = [k for k in known if k.lower() == target.lower()]
        guesses = by_case or difflib.get_close_matches(target, list(known), n=1, cutoff=0.6)
        hint = f"; did you mean {guesses[0]!r}?" if guesses else ""
        problems.append(f"--target {target!r} is not a resource of the manifests or the state{hint}")
    if problems:
        raise PlanError("\n".join(problems))
