"""`VendorDescriptor`: everything the core needs to know about one vendor, as plain data.

A descriptor is pure (no I/O, no vendor client code), so model and plan may read it. Each vendor's
`descriptor.py` defines one `DESCRIPTOR`; the registry in `reconciler.vendors` finds it by package name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.capabilities import KindCapabilities
from reconciler.ratelimit import RateLimit


@dataclass(frozen=True)
class Credential:
    """One credential a Provider of this vendor needs, and the environment variable examples use."""

    name: str  # key under a Provider's `spec.credentials`
    env: str


@dataclass(frozen=True)
class DocumentedLimit:
    """A rate limit the vendor documents for one call class, with where it says so."""

    limit: RateLimit
    source: str


@dataclass(frozen=True)
class VendorDescriptor:
    name: str  # the `vendor:` of a Provider, and the package name under reconciler/vendors/
    credentials: tuple[Credential, ...]
    default_endpoint: str  # the official base URL used when neither operator nor manifest gives one
    # the documented https API hosts, exactly: the only hosts a manifest's `endpoint:` may name. No
    # suffix wildcards: a suffix such as `.aliyuncs.com` also covers hosts any customer can create.
    official_hosts: tuple[str, ...]
    kinds: frozenset[str]  # the managed kinds this vendor runs
    # kinds its rules.py also checks when another vendor runs them (`register_rule(kind)` without a
    # vendor, e.g. "only this vendor has X"): those rules are imported for every resource of such a kind
    rules_for_every_vendor: frozenset[str] = frozenset()
    # region -> official base URL, where the vendor documents regional hosts
    regional_endpoints: Mapping[str, str] = field(default_factory=dict)
    # call class -> documented limit; the provider paces its calls by these
    rate_limits: Mapping[str, DocumentedLimit] = field(default_factory=dict)
    capabilities: Mapping[str, KindCapabilities] = field(default_factory=dict)  # kind -> what it can do
    provider_class: str = ""  # class name in the vendor's provider.py
    emulator_class: str = ""  # class name in the vendor's emulator.py

    @property
    def credential_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.credentials)

    def documented_rate_limits(self) -> dict[str, RateLimit]:
        return {call_class: documented.limit for call_class, documented in self.rate_limits.items()}
