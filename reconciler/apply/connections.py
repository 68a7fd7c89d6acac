"""Building one provider per Provider manifest, with a shared HTTP client and rate limiter.

This is where endpoints are checked (before any request is made) and where the client-side rate
limiter is shared, so every concurrent change to one vendor credential draws from one bucket.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx

from reconciler import httplog
from reconciler.endpoints import resolve_endpoint
from reconciler.model.manifest import ManifestSet
from reconciler.model.provider import ProviderSpec
from reconciler.providers import provider_class
from reconciler.providers.base import EventSink, Provider, ProviderContext, SequenceSource
from reconciler.ratelimit import RateLimiter
from reconciler.retry import RetryPolicy, Sleep

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass
class ConnectionOptions:
    endpoint_overrides: Mapping[str, str] = field(default_factory=dict)
    allowed_endpoints: Iterable[str] = ()
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    sleep: Sleep | None = None
    limiter: RateLimiter | None = None  # None: a fresh limiter paced from the vendors' documented limits


class VendorConnections:
    """Providers by Provider-resource name; use as an async context manager."""

    def __init__(self, manifests: ManifestSet, options: ConnectionOptions, *,
                 sequences: SequenceSource | None = None, events: EventSink = lambda _m: None,
                 limiter: RateLimiter | None = None) -> None:
        self.options = options
        self.client = httpx.AsyncClient(timeout=options.timeout, follow_redirects=False,
                                        event_hooks=httplog.event_hooks())  # logged at -vv, redacted
        self.limiter = limiter or options.limiter or RateLimiter()
        self.providers: dict[str, Provider] = {}
        for resource in manifests.of_kind("Provider"):
            base_dir = Path(resource.source.file).parent  # `{file: key.txt}` is relative to its manifest
            spec = cast(ProviderSpec, resource.spec)
            endpoint = resolve_endpoint(spec.vendor, spec.endpoint, options.endpoint_overrides,
                                        options.allowed_endpoints)
            ctx = ProviderContext(
                name=resource.name, spec=spec, endpoint=endpoint, client=self.client, limiter=self.limiter,
                retry=options.retry, sleep=options.sleep, sequences=sequences, events=events, base_dir=base_dir,
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
