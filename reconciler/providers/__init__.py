"""Vendor providers, each in its vendor's folder behind `reconciler.providers.base.Provider`.

The vendor registry (`reconciler.vendors`) names each vendor's provider class; its module is
imported on first use so a vendor's code costs nothing when no manifest names it.
"""

from __future__ import annotations

from typing import Any

from reconciler.vendors import descriptor, vendor_module


def provider_class(vendor: str) -> Any:
    try:
        module = vendor_module(vendor, "provider")
    except KeyError:
        raise KeyError(f"no provider for vendor {vendor!r}") from None
    return getattr(module, descriptor(vendor).provider_class)
