"""The vendor registry: the one place that lists the vendors.

Each vendor is a package `reconciler.vendors.<name>/` holding its `descriptor.py` (pure data),
`rules.py` (pure validation rules), its provider (I/O), its emulator and their helpers. The core
(model, plan, apply, state, render, commands) reaches vendors only through the functions here.
Adding a vendor is a new folder plus one line in `VENDOR_PACKAGES`.

Vendor modules are imported only by the names listed here: a manifest's `vendor:` is looked up in
this tuple first, so nothing a manifest says decides which code is imported. Descriptors and rules
are pure and may be imported by model and plan; providers and emulators are loaded lazily by the
I/O layers (`reconciler.providers.provider_class`, `reconciler.emulator.cluster.emulator_class`).
Rules too are imported only for the vendors a manifest set needs (`reconciler.model.registry`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from types import ModuleType

from reconciler.vendors.descriptor import VendorDescriptor

# The registry, in the order emulators start and endpoints are listed.
VENDOR_PACKAGES: tuple[str, ...] = (
    "aliyun",
    "tencent",
    "zego",
    "anyrtc",
)

_DESCRIPTORS: dict[str, VendorDescriptor] = {}


def vendor_names() -> tuple[str, ...]:
    return VENDOR_PACKAGES


def vendor_module(vendor: str, module: str) -> ModuleType:
    """Import `reconciler.vendors.<vendor>.<module>` for a registered vendor (KeyError otherwise)."""
    if vendor not in VENDOR_PACKAGES:
        raise KeyError(f"unknown vendor {vendor!r}; expected one of {', '.join(sorted(VENDOR_PACKAGES))}")
    return importlib.import_module(f"{__name__}.{vendor}.{module}")


def descriptor(vendor: str) -> VendorDescriptor:
    if vendor not in _DESCRIPTORS:
        found = vendor_module(vendor, "descriptor").DESCRIPTOR
        if not isinstance(found, VendorDescriptor) or found.name != vendor:
            raise TypeError(f"reconciler.vendors.{vendor}.descriptor.DESCRIPTOR must be a VendorDescriptor "
                            f"named {vendor!r}")
        _DESCRIPTORS[vendor] = found
    return _DESCRIPTORS[vendor]


def descriptors() -> tuple[VendorDescriptor, ...]:
    return tuple(descriptor(name) for name in VENDOR_PACKAGES)


_RULES_IMPORTED: set[str] = set()


def import_rules(vendors: Iterable[str] | None = None) -> None:
    """Import the `rules` module of each of `vendors` (default: every vendor), which registers its
    validation rules, derivers and renditions (pure)."""
    for name in VENDOR_PACKAGES if vendors is None else vendors:
        if name not in _RULES_IMPORTED:
            vendor_module(name, "rules")
            _RULES_IMPORTED.add(name)


def vendors_checking_every_vendor(kind: str) -> tuple[str, ...]:
    """The vendors whose rules check resources of `kind` of every vendor (`rules_for_every_vendor`)."""
    return tuple(d.name for d in descriptors() if kind in d.rules_for_every_vendor)
