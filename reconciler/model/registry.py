"""The manifest kinds, each a spec model registered under its `kind:` name.

Adding a kind is one module that defines its spec model and calls `register_kind`, plus an import
in `reconciler/model/__init__.py`. A spec model may implement:

- `references() -> list[Reference]`: other resources it names (checked by the loader);
- `to_desired(ctx) -> DesiredResource`: the normalised, vendor-neutral desired state (pure);
and vendor-specific rules are registered with `register_rule`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.model.base import StrictModel
from reconciler.model.source import FieldPath

if TYPE_CHECKING:
    from reconciler.model.desired import DesiredResource
    from reconciler.model.manifest import ManifestSet, Resource

KINDS: dict[str, type[StrictModel]] = {}

# Kinds that describe a vendor job the reconciler manages (the rest are configuration).
MANAGED_KINDS: set[str] = set()


def register_kind(name: str, *, managed: bool) -> Callable[[type[StrictModel]], type[StrictModel]]:
    def decorate(model: type[StrictModel]) -> type[StrictModel]:
        KINDS[name] = model
        if managed:
            MANAGED_KINDS.add(name)
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

# (kind, vendor or None for every vendor) -> rules
RULES: dict[tuple[str, str | None], list[RuleFn]] = {}


def register_rule(kind: str, vendor: str | None = None) -> Callable[[RuleFn], RuleFn]:
    """Register a cross-document or vendor-specific rule for `kind` (optionally for one vendor)."""

    def decorate(fn: RuleFn) -> RuleFn:
        RULES.setdefault((kind, vendor), []).append(fn)
        return fn

    return decorate


# Vendor resources that follow from the managed ones (e.g. an Aliyun custom layout used by MixTasks):
# each deriver takes the desired resources and returns them completed (with `depends_on` set).
DeriveFn = Callable[[list["DesiredResource"], "ManifestSet"], list["DesiredResource"]]
DERIVERS: list[DeriveFn] = []


def register_deriver(fn: DeriveFn) -> DeriveFn:
    DERIVERS.append(fn)
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
    fn = RENDITIONS.get((vendor, kind))
    return fn(spec) if fn is not None else (spec["layout"], ())
