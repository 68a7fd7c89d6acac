"""Vendor providers, one module each behind `reconciler.providers.base.Provider`.

`PROVIDERS` maps a vendor name to "module:Class"; modules are imported on first use so a vendor's
optional code costs nothing when no manifest names it.
"""

from __future__ import annotations

import importlib
from typing import Any

PROVIDERS: dict[str, str] = {
    "aliyun": "reconciler.providers.aliyun:AliyunProvider",
    "tencent": "reconciler.providers.tencent:TencentProvider",
    "zego": "reconciler.providers.zego:ZegoProvider",
    "anyrtc": "reconciler.providers.anyrtc:AnyrtcProvider",
}


def provider_class(vendor: str) -> Any:
    try:
        module_name, class_name = PROVIDERS[vendor].split(":")
    except KeyError:
        raise KeyError(f"no provider for vendor {vendor!r}") from None
    return getattr(importlib.import_module(module_name), class_name)
