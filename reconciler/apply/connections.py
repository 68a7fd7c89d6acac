"""Building one provider per Provider manifest, with a shared HTTP client and rate limiter.

This is where endpoints are checked (before any request is made) and where the client-side rate
limiter is shared, so every concurrent change to one vendor credential draws from one bucket.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import httpx

from reconciler import httplog
from reconciler.allowances import Allowances, default_env_globs
from reconciler.endpoints import resolve_endpoint
from reconciler.inflight import MAXIMUM, InFlightGates
from reconciler.model.manifest import ManifestSet
from reconciler.model.provider import ProviderSpec
from reconciler.providers import provider_class
from reconciler.providers.base import EventSink, Provider, ProviderContext, SequenceSource
from reconciler.ratelimit import RateLimiter
from reconciler.retry import RetryPolicy, Sleep
from reconciler.secrets import SecretAccess

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass
class ConnectionOptions:
    endpoint_overrides: Mapping[str, str] = field(default_factory=dict)
    allowed_endpoints: Iterable[str] = ()
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    sleep: Sleep | None = None
    limiter: RateLimiter | None = None  # None: a fresh limiter paced from the vendors' documented limits
    secret_dirs: tuple[str, ...] = ()  # --allow-secret-dir, besides the manifest roots
    secret_env: tuple[str, ...] = ()  # --allow-secret-env globs (replace the default)

    def allowances(self, manifest_paths: Iterable[object] = ()) -> Allowances:
        """The operator's allowances for manifests under `manifest_paths` (see reconciler.allowances)."""
        paths = [str(p) for p in manifest_paths]
        return Allowances.from_operator(paths, secret_dirs=self.secret_dirs, env_globs=self.secret_env,
                                        endpoints=[*self.allowed_endpoints, *self.endpoint_overrides.values()])


class VendorConnections:
    """Providers by Provider-resource name; use as an async context manager."""

    def __init__(self, manifests: ManifestSet, options: ConnectionOptions, *,
                 sequences: SequenceSource | None = None, events: EventSink = lambda _m: None,
                 limiter: RateLimiter | None = None) -> None:
        self.options = options
        self.client = httpx.AsyncClient(timeout=options.timeout, follow_redirects=False,
                                        limits=httpx.Limits(max_connections=None, max_keepalive_connections=MAXIMUM),
                                        event_hooks=httplog.event_hooks())  # logged at -vv, redacted
        self.limiter = limiter or options.limiter or RateLimiter()
        self.gates = InFlightGates()  # per endpoint and action, shared by the providers calling them
        self.providers: dict[str, Provider] = {}
        env_globs = options.allowances().env_globs or default_env_globs()
        for resource in manifests.of_kind("Provider"):
            spec = cast(ProviderSpec, resource.spec)
            endpoint = resolve_endpoint(spec.vendor, spec.endpoint, options.endpoint_overrides,
                                        options.allowed_endpoints)
            ctx = ProviderContext(
                name=resource.name, spec=spec, endpoint=endpoint, client=self.client, limiter=self.limiter,
                retry=options.retry, sleep=options.sleep, sequences=sequences, events=events,
                secrets=SecretAccess(dict(manifests.secret_files.get(resource.name, {})), env_globs),
                gates=self.gates,
            )
            self.providers[resource.name] = provider_class(spec.vendor)(ctx)

    def get(self, provider_name: str) -> Provider | None:
        return self.providers.get(provider_name)

    async def __aenter__(self) -> "VendorConnections":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        for provider in self.providers.values():
            await provider.aclose()
        await self.client.aclose()
