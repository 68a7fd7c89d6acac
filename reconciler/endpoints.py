"""Which vendor endpoints a run may talk to.

Manifests come from pull requests while `plan` runs with real credentials, so a manifest must not be
able to send signed requests to a host of its choosing. Allowed: the vendor's official https hosts,
plain http on loopback (the emulator), and whatever the operator allows outside the manifests with
`--allow-endpoint URL` or RECONCILER_ALLOW_ENDPOINTS (comma-separated URLs).
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from reconciler.errors import EndpointRefused
from reconciler.vendors import descriptor, vendor_names

ALLOW_ENV = "RECONCILER_ALLOW_ENDPOINTS"
ENDPOINTS_FILE_ENV = "RECONCILER_ENDPOINTS_FILE"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _official(vendor: str, host: str) -> bool:
    hosts = descriptor(vendor).official_hosts if vendor in vendor_names() else ()
    for suffix in hosts:
        if host == suffix or (suffix.startswith(".") and host.endswith(suffix)):
            return True
    return False


def check_endpoint(vendor: str, url: str, allowed: Iterable[str] = ()) -> str:
    """Return the normalised endpoint, or raise EndpointRefused saying how to allow it."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    normalised = url.rstrip("/")
    extra = {u.rstrip("/") for u in allowed} | {
        u.strip().rstrip("/") for u in os.environ.get(ALLOW_ENV, "").split(",") if u.strip()
    }
    if normalised in extra:
        return normalised
    if parts.scheme not in ("http", "https") or not host:
        raise EndpointRefused(f"{vendor} endpoint {url!r} is not an http(s) URL")
    if parts.scheme == "https" and _official(vendor, host):
        return normalised
    if is_loopback(host):
        return normalised
    raise EndpointRefused(
        f"{vendor} endpoint {url!r} is neither an official {vendor} host nor loopback; manifests cannot "
        f"choose where signed requests go. If you trust it, allow it outside the manifests with "
        f"--allow-endpoint {normalised} or {ALLOW_ENV}={normalised}"
    )


def load_endpoints_file(path: Path | str | None) -> dict[str, str]:
    """The vendor -> base URL map that `reconciler emulator --endpoints-file` writes."""
    if path is None:
        env = os.environ.get(ENDPOINTS_FILE_ENV)
        if not env:
            return {}
        path = env
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EndpointRefused(f"cannot read endpoints file {path}: {exc}") from exc
    if not isinstance(data, Mapping):
        raise EndpointRefused(f"endpoints file {path} must hold a JSON object of vendor -> URL")
    return {str(k): str(v) for k, v in data.items()}


def resolve_endpoint(vendor: str, manifest_endpoint: str | None, overrides: Mapping[str, str],
                     allowed: Iterable[str] = ()) -> str:
    """The operator's override wins over the manifest, which wins over the vendor default."""
    url = overrides.get(vendor) or manifest_endpoint or descriptor(vendor).default_endpoint
    return check_endpoint(vendor, url, allowed)
