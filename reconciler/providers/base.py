"""The one protocol every vendor module implements, and what they share.

A provider turns vendor-neutral specs (see `reconciler.model`) into one vendor's API calls. It owns
signing, error-code mapping, deterministic ids and retries of *idempotent* calls; a start is never
retried blindly: a provider observes first (a lost response may have started the job).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

import httpx

from reconciler.errors import NOT_SENT, UNKNOWN, CredentialError, VendorError, VendorRateLimited, VendorUnavailable
from reconciler.inflight import InFlightGates
from reconciler.model.base import SecretRef
from reconciler.model.provider import ProviderSpec
from reconciler.ratelimit import RateLimit, RateLimiter, current_call_throttled, finish_current_call
from reconciler.records import Discovery, Observation
from reconciler.retry import RetryPolicy, Sleep, call_with_retry
from reconciler.secrets import REDACTOR, Secret, SecretAccess, resolve

T = TypeVar("T")
Handles = Mapping[str, str]
SaveHandles = Callable[[Handles], None]
SequenceSource = Callable[[str, int], int]  # (scope, floor) -> strictly increasing value
EventSink = Callable[[str], None]


@dataclass
class ProviderContext:
    """Everything a provider instance needs; built by the CLI, injected so tests control it."""

    name: str  # the Provider resource's name
    spec: ProviderSpec
    endpoint: str
    client: httpx.AsyncClient
    limiter: RateLimiter = field(default_factory=RateLimiter)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Sleep | None = None
    sequences: SequenceSource | None = None
    events: EventSink = lambda _message: None
    secrets: SecretAccess = field(default_factory=SecretAccess)  # what the operator lets it read
    gates: InFlightGates = field(default_factory=InFlightGates)  # exchanges in flight per endpoint and action

    @property
    def vendor(self) -> str:
        return self.spec.vendor

    @property
    def app_id(self) -> str:
        return self.spec.app_id


class Provider(Protocol):
    vendor: ClassVar[str]

    def new_handles(self, kind: str, name: str, spec: Mapping[str, Any], generation: int) -> dict[str, str]:
        """Deterministic vendor ids for the job started at `generation` (same inputs, same ids)."""

    async def observe(self, kind: str, handles: Handles, spec: Mapping[str, Any] | None) -> Observation: ...

    async def start(self, kind: str, handles: Handles, spec: Mapping[str, Any], save: SaveHandles) -> dict[str, str]:
        """Start the job; call `save` with every id learnt before the job exists. Returns final handles."""

    async def update(self, kind: str, handles: Handles, spec: Mapping[str, Any], groups: tuple[str, ...]) -> dict[str, str]:
        """Change the running job in place for the given update groups. Returns (possibly new) handles."""

    async def stop(self, kind: str, handles: Handles, spec: Mapping[str, Any] | None) -> None: ...

    async def resume(self, kind: str, handles: Handles, spec: Mapping[str, Any] | None) -> None: ...

    async def pause(self, kind: str, handles: Handles, spec: Mapping[str, Any] | None) -> None: ...

    def import_handles(self, kind: str, vendor_id: str) -> dict[str, str]:
        """The handles of a job that already runs, from the id its vendor shows (`reconciler import`)."""

    async def discover(self, kind: str, name: str, spec: Mapping[str, Any]) -> Discovery | None:
        """For a resource the state does not know: the newest job of it the vendor holds, found by
        asking for the ids `new_handles` derives (None: nothing found, or ids are not derivable)."""

    def credential_problems(self, specs: Iterable[Mapping[str, Any]]) -> list[str]:
        """Every credential these specs need that cannot be resolved (preflight), one line each."""

    @property
    def endpoint(self) -> str: ...

    async def aclose(self) -> None: ...


class BaseProvider:
    """Shared plumbing: secrets, rate limiting, retries, transport-error conversion."""

    vendor: ClassVar[str] = ""
    # call class -> documented limit; subclasses fill it from the vendor documents
    RATE_LIMITS: ClassVar[dict[str, RateLimit]] = {}
    # kind -> the handle naming a job, so `reconciler import KIND/NAME ID` knows where ID goes
    MAIN_HANDLES: ClassVar[dict[str, str]] = {}

    def __init__(self, ctx: ProviderContext) -> None:
        self.ctx = ctx
        self._secrets: dict[str, Secret] = {}

    def secret(self, name: str) -> Secret:
        if name not in self._secrets:
            ref: SecretRef = self.ctx.spec.credentials[name]
            secret = resolve(ref, owner=f"Provider/{self.ctx.name} credential {name}", access=self.ctx.secrets)
            REDACTOR.add([secret])
            self._secrets[name] = secret
        return self._secrets[name]

    @property
    def endpoint(self) -> str:
        return self.ctx.endpoint

    def credential_problems(self, specs: Iterable[Mapping[str, Any]]) -> list[str]:
        problems = []
        for name in sorted(self.ctx.spec.credentials):
            try:
                self.secret(name)
            except CredentialError as exc:
                problems.append(str(exc))
        for spec in specs:
            for path, ref in secret_references(spec):
                try:
                    REDACTOR.add([resolve(ref, owner=f"Provider/{self.ctx.name} {path}", access=self.ctx.secrets)])
                except CredentialError as exc:
                    problems.append(str(exc))
        return sorted(set(problems))

    async def discover(self, kind: str, name: str, spec: Mapping[str, Any]) -> Discovery | None:
        return None  # default: vendor ids are not derived from the manifests, or a start is idempotent

    def rate_limit(self, call_class: str) -> RateLimit:
        """The documented limit of `call_class`, or the operator's `rateLimit` (their quota) when set."""
        documented = self.RATE_LIMITS.get(call_class, RateLimit(10))
        if self.ctx.spec.rate_limit is not None:
            return RateLimit(self.ctx.spec.rate_limit)
        return documented

    async def throttle(self, call_class: str, credential_key: str) -> None:
        """Wait for a slot under this credential's limit for `call_class`; `send` ends the slot."""
        key = f"{self.vendor}:{credential_key}:{call_class}"
        await self.ctx.limiter.acquire(key, self.rate_limit(call_class))

    async def with_retry(self, operation: Callable[[], Awaitable[T]], what: str,
                         min_delay_for: Callable[[VendorError], float] = lambda _e: 0.0) -> T:
        def report(exc: VendorError, attempt: int, delay: float) -> None:
            if isinstance(exc, VendorRateLimited):
                current_call_throttled()  # adapt the pace down; it recovers window by window
            self.ctx.events(f"{what}: {exc.code} (transient), retry {attempt} in {delay:.1f}s")

        kwargs: dict[str, Any] = {"on_retry": report, "min_delay_for": min_delay_for}
        if self.ctx.sleep is not None:
            kwargs["sleep"] = self.ctx.sleep
        return await call_with_retry(operation, self.ctx.retry, **kwargs)

    async def send(self, action: str, request: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        """Make one HTTP exchange, once the gate of its endpoint and action has room (see inflight.py),
        turning transport failures into transient VendorErrors."""
        try:
            async with self.ctx.gates.gate(self.ctx.endpoint, action).exchange() as exchange:
                response = await request()
                exchange.answered()
            return response
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # no connection, so no request: refused, unresolvable, TLS handshake failed
            raise VendorUnavailable(self.vendor, "ConnectionError",
                                    f"cannot reach {self.ctx.endpoint}: {exc.__class__.__name__}; nothing was sent",
                                    action=action, outcome=NOT_SENT) from exc
        except httpx.TimeoutException as exc:
            raise VendorUnavailable(self.vendor, "Timeout", f"no answer from {self.ctx.endpoint} in time",
                                    action=action, outcome=UNKNOWN) from exc
        except httpx.TransportError as exc:
            raise VendorUnavailable(self.vendor, "ConnectionError",
                                    f"the connection to {self.ctx.endpoint} failed before an answer arrived: "
                                    f"{exc.__class__.__name__}", action=action, outcome=UNKNOWN) from exc
        finally:
            finish_current_call()  # the pacer counts this call from its answer on

    def json_envelope(self, action: str, response: httpx.Response, code_field: str, vendor_name: str) -> dict[str, Any]:
        """The vendor's JSON envelope, or an error when the answer is something else (a proxy page, a 5xx)."""
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or code_field not in payload:
            cls = VendorUnavailable if response.status_code >= 500 or response.status_code == 200 else VendorError
            # something between us and the vendor answered (a proxy page): whether the vendor acted is unknown
            raise cls(self.vendor, f"HTTP{response.status_code}", f"the answer is not {vendor_name}'s JSON envelope",
                      http_status=response.status_code, action=action, outcome=UNKNOWN)
        return payload

    def unsupported(self, operation: str, kind: str) -> VendorError:
        return VendorError(self.vendor, "Unsupported", f"{self.vendor} has no {operation} for {kind}",
                           transient=False, action=operation, outcome=NOT_SENT)

    async def pause(self, kind: str, handles: Handles, spec: Mapping[str, Any] | None) -> None:
        raise self.unsupported("pause", kind)

    def import_handles(self, kind: str, vendor_id: str) -> dict[str, str]:
        """Default: the id is the kind's main handle. Vendors whose jobs need several ids (anyRTC
        resourceId + sid) override this and parse `vendor_id`."""
        handle = self.MAIN_HANDLES.get(kind)
        if handle is None:
            raise self.unsupported("import", kind)
        if not vendor_id.strip():
            raise VendorError(self.vendor, "InvalidId", f"an empty {handle} cannot name a {kind}", transient=False,
                              action="import")
        return {handle: vendor_id.strip()}

    async def resume(self, kind: str, handles: Handles, spec: Mapping[str, Any] | None) -> None:
        raise self.unsupported("resume", kind)

    async def aclose(self) -> None:
        return None


def secret_references(spec: Any, path: str = "spec") -> list[tuple[str, Mapping[str, str]]]:
    """The secret references (`{env: NAME}` / `{file: PATH}`) inside a normalised spec, with their paths."""
    if isinstance(spec, Mapping):
        if len(spec) == 1 and set(spec) <= {"env", "file"} and all(isinstance(v, str) for v in spec.values()):
            return [(path, {str(k): str(v) for k, v in spec.items()})]
        return [ref for key, value in spec.items() for ref in secret_references(value, f"{path}.{key}")]
    if isinstance(spec, list):
        return [ref for i, value in enumerate(spec) for ref in secret_references(value, f"{path}[{i}]")]
    return []


def stable_suffix(*parts: str, length: int = 8) -> str:
    """A short hash that ties a vendor id to its inputs (app, resource name) deterministically."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:length]
