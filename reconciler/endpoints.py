"""Which vendor endpoints a run may talk to.

Manifests come from pull requests while `plan` runs with real credentials, so a manifest must not be
able to send signed requests to a host of its choosing. A manifest's `endpoint:` may only be one of
its vendor's documented API hosts, exactly: https, no user info, no port, no path, no query. Every
other URL (the emulator on loopback, a proxy) is the operator's choice, made outside the manifests:
the endpoints file (`--endpoints-file`, RECONCILER_ENDPOINTS_FILE), `--allow-endpoint URL` or
RECONCILER_ALLOW_ENDPOINTS (comma-separated URLs).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from reconciler.errors import EndpointRefused
from reconciler.vendors import descriptor, vendor_names

ALLOW_ENV = "RECONCILER_ALLOW_ENDPOINTS"
ENDPOINTS_FILE_ENV = "RECONCILER_ENDPOINTS_FILE"


def _normalise(url: str) -> str:
    return url.strip().rstrip("/")


def operator_endpoints(allowed: Iterable[str] = ()) -> set[str]:
    """The URLs the operator allows: the given ones plus RECONCILER_ALLOW_ENDPOINTS."""
    return {_normalise(u) for u in allowed if u.strip()} | {
        _normalise(u) for u in os.environ.get(ALLOW_ENV, "").split(",") if u.strip()}


def official_hosts(vendor: str) -> tuple[str, ...]:
    """The vendor's documented API hosts, exactly (its descriptor's list; no suffix wildcards)."""
    return descriptor(vendor).official_hosts if vendor in vendor_names() else ()


def official_urls(vendor: str) -> list[str]:
    return [f"https://{host}" for host in official_hosts(vendor)]


def endpoint_problem(vendor: str, url: str, allowed: Iterable[str] = ()) -> str | None:
    """Why a manifest may not use `url` for `vendor` (None: it may), saying how the operator can allow it."""
    if _normalise(url) in operator_endpoints(allowed):
        return None
    documented = ", ".join(official_urls(vendor)) or "none"
    how = (f"loopback and other hosts are the operator's choice: --allow-endpoint URL, {ALLOW_ENV} or the "
           "endpoints file")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return f"{url!r} is not a URL; expected one of {documented}"
    if parts.scheme != "https":
        return f"{url!r} is not https; expected one of {documented} ({how})"
    if "@" in parts.netloc:
        return f"{url!r} carries user info (`user@`); expected one of {documented}"
    if port is not None or parts.netloc.endswith(":"):
        return f"{url!r} names a port; expected one of {documented} ({how})"
    if parts.path not in ("", "/") or parts.query or parts.fragment or "?" in url or "#" in url:
        return f"{url!r} has a path, query or fragment; expected one of {documented}"
    host = parts.netloc.lower()
    if host not in official_hosts(vendor):
        return f"{url!r} is not a documented {vendor} API host; expected one of {documented} ({how})"
    return None


def check_endpoint(vendor: str, url: str, allowed: Iterable[str] = ()) -> str:
    """Return the normalised endpoint, or raise EndpointRefused saying how to allow it."""
    problem = endpoint_problem(vendor, url, allowed)
    if problem:
        raise EndpointRefused(f"{vendor} endpoint {problem}; manifests cannot choose where signed requests go")
    return _normalise(url)


def load_endpoints_file(path: Path | str | None) -> dict[str, str]:
    """The vendor -> base URL map that `reconciler emulator --endpoints-file` writes."""
    if path is None:
        env = os.environ.get(ENDPOINTS_FILE_ENV)
        if not env:
            return {}
        path = env
    import json  # only when there is a file: `validate` in a pre-commit hook rarely has one

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EndpointRefused(f"cannot read endpoints file {path}: {exc}") from exc
    if not isinstance(data, Mapping):
        raise EndpointRefused(f"endpoints file {path} must hold a JSON object of vendor -> URL")
    out = {str(k): _normalise(str(v)) for k, v in data.items()}
    for vendor, url in out.items():
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise EndpointRefused(f"endpoints file {path}: {vendor} URL {url!r} is not an http(s) URL")
    return out


def resolve_endpoint(vendor: str, manifest_endpoint: str | None, overrides: Mapping[str, str],
                     allowed: Iterable[str] = ()) -> str:
    """The operator's override wins over the manifest, which wins over the vendor default.

    An override comes from the operator's endpoints file, so it is used as given; the manifest's
    endpoint must pass `check_endpoint` (the endpoints file's URLs count as allowed).
    """
    if overrides.get(vendor):
        return _normalise(overrides[vendor])
    if manifest_endpoint is None:
        return descriptor(vendor).default_endpoint
    return check_endpoint(vendor, manifest_endpoint, [*allowed, *overrides.values()])
