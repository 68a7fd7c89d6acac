"""The manifest kinds, each a spec model registered under its `kind:` name, and the rules that check them.

Adding a kind is one module that defines its spec model and calls `register_kind`, plus its line in
`KIND_MODULES` (and in `MANAGED_KINDS` when it is a vendor job). A spec model may implement:

- `references() -> list[Reference]`: other resources it names (checked by the loader);
- `to_desired(ctx) -> DesiredResource`: the normalised, vendor-neutral desired state (pure);
and vendor-specific rules are registered with `register_rule`.

Nothing is built before it is needed (`validate` runs in pre-commit hooks): a kind's models are built
the first time a document of that kind is read, and a vendor's rules are imported, through the vendor
registry, the first time a resource they can apply to is checked (`load_vendor_rules`). The order in
which rules run never depends on the order they were imported in: the core's first, then each
vendor's in the registry's order.
"""

from __future__ import annotations

import bisect
import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.model.source import FieldPath
from reconciler.vendors import import_rules, vendor_names, vendors_checking_every_vendor

if TYPE_CHECKING:
    from reconciler.model.base import StrictModel
    from reconciler.model.desired import DesiredResource
    from reconciler.model.manifest import ManifestSet, Resource

# Every kind, and the module whose import builds and registers its spec model.
KIND_MODULES: dict[str, str] = {
    "Layout": "reconciler.model.layout",
    "MixTask": "reconciler.model.mixtask",
    "Provider": "reconciler.model.provider",
    "Recording": "reconciler.model.recording",
    "StreamRule": "reconciler.model.streamrule",
}

# Kinds that describe a vendor job the reconciler manages (the rest are configuration).
MANAGED_KINDS: frozenset[str] = frozenset({"MixTask", "Recording", "StreamRule"})


class KindModels(Mapping[str, "type[StrictModel]"]):
    """kind -> spec model, for every kind of `KIND_MODULES`; a kind's module is imported on first lookup."""

    def __init__(self, modules: Mapping[str, str]) -> None:
        self._modules = modules
        self._models: dict[str, type[StrictModel]] = {}

    def __getitem__(self, kind: str) -> type[StrictModel]:
        if kind not in self._models:
            importlib.import_module(self._modules[kind])  # KeyError for a kind that does not exist
        return self._models[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __contains__(self, kind: object) -> bool:
        return kind in self._modules

    def register(self, kind: str, model: type[StrictModel]) -> None:
        if kind not in self._modules:
            raise KeyError(f"kind {kind!r} is not listed in reconciler.model.registry.KIND_MODULES")
        self._models[kind] = model


KINDS = KindModels(KIND_MODULES)


def register_kind(name: str, *, managed: bool) -> Callable[[type[StrictModel]], type[StrictModel]]:
    if managed != (name in MANAGED_KINDS):
        raise ValueError(f"kind {name!r}: managed={managed} disagrees with MANAGED_KINDS")

    def decorate(model: type[StrictModel]) -> type[StrictModel]:
        KINDS.register(name, model)
        return model

    return decorate


@dataclass(frozen=True)
class Reference:
    """A field of one resource naming another resource."""

    path: FieldPath  # relative to the document root, e.g. ("spec", "layout")
    kind: str
    name: str


@dataclass(frozen=True)
class Violation:
    """A rule broken at one field of one document."""

    path: FieldPath
    message: str


RuleFn = Callable[["Resource", "ManifestSet"], Iterable[Violation]]

# (kind, vendor or None for every vendor) -> rules, each list in `_rank` order
RULES: dict[tuple[str, str | None], list[RuleFn]] = {}


def _rank(fn: Callable[..., Any]) -> int:
    """0 for the core's functions, 1 + the vendor's place in the registry for a vendor's."""
    parts = fn.__module__.split(".")
    names = vendor_names()
    if parts[:2] == ["reconciler", "vendors"] and len(parts) > 2 and parts[2] in names:
        return 1 + names.index(parts[2])
    return 0


def register_rule(kind: str, vendor: str | None = None) -> Callable[[RuleFn], RuleFn]:
    """Register a cross-document or vendor-specific rule for `kind` (optionally for one vendor).

    A vendor's `rules.py` may register a rule for every vendor (`vendor=None`) only for the kinds its
    descriptor lists in `rules_for_every_vendor`: that is how `load_vendor_rules` knows to import it.
    """

    def decorate(fn: RuleFn) -> RuleFn:
        found = RULES.setdefault((kind, vendor), [])
        bisect.insort_right(found, fn, key=_rank)  # after the rules of the same rank: registration order
        return fn

    return decorate


_LOADED: set[tuple[str, str | None]] = set()  # (kind, vendor) whose rules are imported


def load_vendor_rules(kind: str, vendor: str | None) -> None:
    """Import the vendor rules that may apply to a resource of `kind` run by `vendor` (None: not known):
    that vendor's own, and those of the vendors that check `kind` for every vendor."""
    if (kind, vendor) not in _LOADED:
        import_rules(vendors_checking_every_vendor(kind) + ((vendor,) if vendor is not None else ()))
        _LOADED.add((kind, vendor))


def rules_for(kind: str, vendor: str | None) -> list[RuleFn]:
    """The rules a resource of `kind` run by `vendor` must keep: the core's first, then the vendors'."""
    load_vendor_rules(kind, vendor)
    found = RULES.get((kind, None), [])
    return found + RULES.get((kind, vendor), []) if vendor is not None else list(found)


# Vendor resources that follow from the managed ones (e.g. an Aliyun custom layout used by MixTasks):
# each deriver takes the desired resources and returns them completed (with `depends_on` set). A
# vendor's deriver completes that vendor's resources only; it is imported with the vendor's rules.
DeriveFn = Callable[[list["DesiredResource"], "ManifestSet"], list["DesiredResource"]]
DERIVERS: list[DeriveFn] = []


def register_deriver(fn: DeriveFn) -> DeriveFn:
    bisect.insort_right(DERIVERS, fn, key=_rank)
    return fn


# How a vendor draws a job's layout: (vendor, kind) -> fn(spec) -> (the layout as the vendor will render it,
# notes on what of the manifest's Layout it cannot honour). Used for the pull-request pictures.
RenditionFn = Callable[[Mapping[str, Any]], tuple[Mapping[str, Any], tuple[str, ...]]]
RENDITIONS: dict[tuple[str, str], RenditionFn] = {}


def register_rendition(vendor: str, kind: str) -> Callable[[RenditionFn], RenditionFn]:
    def decorate(fn: RenditionFn) -> RenditionFn:
        RENDITIONS[(vendor, kind)] = fn
        return fn

    return decorate


def as_rendered(vendor: str, kind: str, spec: Mapping[str, Any]) -> tuple[Mapping[str, Any], tuple[str, ...]]:
    """The layout of `spec` as `vendor` will draw it, and what it cannot honour (none known: as written)."""
    if vendor in vendor_names():
        import_rules((vendor,))
    fn = RENDITIONS.get((vendor, kind))
    return fn(spec) if fn is not None else (spec["layout"], ())
