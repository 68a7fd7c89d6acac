"""What every vendor emulator shares: the `/_emulator/` control API, fault
injection (the rules themselves in faults.py), request accounting, rate windows and a clock tests can move.

A vendor module subclasses `VendorEmulator` and implements its API from the vendor document: it
authenticates, enforces limits and lifecycles, and answers in the vendor's own envelope. The base
never interprets vendor semantics; it only routes, counts and injects faults.

Control API (every vendor server, under the reserved prefix `/_emulator/`):
    GET  /_emulator/state      every task held: id, status, last accepted parameters
    GET  /_emulator/requests   counts per action and outcome, throttled count, requests in flight
                               (received, not yet answered; held calls included), calls held, per action
                               the times of its first and last answer (`spans`), recent log
    GET  /_emulator/faults     the fault rules in force; DELETE clears them
    POST /_emulator/faults     {"action": "StartMPUTask"|"*",
                                "type": "error"|"latency"|"timeout"|"lost-response"|"hold",
                                "code": vendor code, "status": http status, "message": text,
                                "count": next N matching requests, "ratio": share of requests (0-1),
                                "latencyMs": extra delay, "seconds": how long a timeout hangs}
                               "hold" keeps each matching call in flight, unanswered, until a release lets
                               it through; then it is served normally. Tests use it instead of a latency
                               that must outlast a race. A reset drops held calls unserved (nothing leaks
                               into the next test), and so does HOLD_SAFETY_SECONDS, only so that a broken
                               test cannot hang a run forever; no passing test relies on that bound.
    POST /_emulator/release    {"action": name (default: any), "count": n (default: all)} lets the oldest
                               matching held calls through; answers {"released": how many}
    POST /_emulator/drift      vendor-specific: change a task behind the reconciler's back
    POST /_emulator/clock      {"advance": seconds} moves the emulator's clock forward; {"freeze": true}
                               stops it following real time (rate windows included), {"freeze": false}
                               lets it run again: tests then never depend on how fast the machine is
    POST /_emulator/limits     {"action": name, "perSecond": n} overrides a rate limit; {"reset": true}
    POST /_emulator/reset      forget tasks, counts, faults, limit overrides, clock offset and freeze;
                               release every held call by dropping its connection
    other /_emulator/<name>    handed to the vendor's `control_extra`
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qs

from reconciler.emulator.faults import HOLD_SAFETY_SECONDS, DropConnection, FaultRule, HeldCall

CONTROL_PREFIX = "/_emulator/"


class Clock:
    """Wall-clock time plus an offset tests can advance (expiry windows, reuse windows, rate windows).

    A frozen clock stands still until advanced, so a test's sequence of events decides what the
    emulator sees, never the speed of the machine running it.
    """

    def __init__(self) -> None:
        self.offset = 0.0
        self.frozen_at: float | None = None

    def now(self) -> float:
        if self.frozen_at is not None:
            return self.frozen_at + self.offset
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def freeze(self, frozen: bool) -> None:
        if frozen and self.frozen_at is None:
            self.frozen_at = time.time()
        elif not frozen and self.frozen_at is not None:
            self.offset += self.frozen_at - time.time()  # carry on from the frozen instant
            self.frozen_at = None

    def reset(self) -> None:
        self.offset = 0.0
        self.frozen_at = None


@dataclass
class EmulatorRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    raw_query: str = ""

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def form(self) -> dict[str, list[str]]:
        ctype = self.headers.get("content-type", "")
        if self.body and "application/x-www-form-urlencoded" in ctype:
            return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        return {}

    def params(self) -> dict[str, str]:
        """Query and form parameters together, one value each (the last one wins)."""
        merged: dict[str, str] = {}
        for source in (self.query, self.form()):
            for key, values in source.items():
                merged[key] = values[-1]
        return merged


@dataclass
class EmulatorResponse:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    outcome: str = "ok"  # for accounting: "ok", "error:<code>", "throttled"

    @staticmethod
    def json(status: int, payload: Any, outcome: str = "ok", headers: dict[str, str] | None = None) -> "EmulatorResponse":
        return EmulatorResponse(status, json.dumps(payload).encode(), "application/json", headers or {}, outcome)


class RateWindow:
    """At most `limit` calls in any `window` seconds of `now` (the emulator's clock), per key."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._calls: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str, limit: float, window: float = 1.0) -> bool:
        now = self._now()
        with self._lock:
            calls = self._calls[key]
            while calls and calls[0] <= now - window:
                calls.popleft()
            if len(calls) >= max(1, int(limit)):
                return False
            calls.append(now)
            return True

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


class VendorEmulator(ABC):
    """One vendor's API. Subclasses hold tasks in plain dicts guarded by `self.lock`."""

    vendor: ClassVar[str] = ""
    # built-in accounts used when no --accounts file is given; printed by `reconciler emulator`
    DEMO_ACCOUNTS: ClassVar[list[dict[str, Any]]] = []
    # environment variables the shipped examples read, set to the first demo account's credentials
    DEMO_ENV: ClassVar[dict[str, str]] = {}
    # action (or call class) -> (calls, window seconds): the vendor's documented limits
    DEFAULT_LIMITS: ClassVar[dict[str, tuple[float, float]]] = {}

    def __init__(self, accounts: list[dict[str, Any]] | None = None, clock: Clock | None = None) -> None:
        self.accounts = list(accounts if accounts is not None else self.DEMO_ACCOUNTS)
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self.rates = RateWindow(self.clock.now)
        self.limits: dict[str, tuple[float, float]] = dict(self.DEFAULT_LIMITS)
        self.faults: list[FaultRule] = []
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.throttled = 0
        self.in_flight: dict[str, int] = defaultdict(int)  # requests received and not yet answered
        self.held: list[HeldCall] = []  # oldest first
        self.log: deque[dict[str, Any]] = deque(maxlen=500)
        self.spans: dict[str, list[float]] = {}  # action -> [first, last] time a call of it was answered
        self._random = random.Random(0)

    # -- what a vendor implements ------------------------------------------------------------
    @abstractmethod
    def action_of(self, request: EmulatorRequest) -> str:
        """The vendor's name for the call (used for counts, faults and limits)."""

    @abstractmethod
    def handle(self, request: EmulatorRequest) -> EmulatorResponse:
        """Authenticate, rate-limit and serve one API request, in the vendor's envelope."""

    @abstractmethod
    def error_response(self, request: EmulatorRequest, code: str | None, status: int | None,
                       message: str | None) -> EmulatorResponse:
        """The vendor's error answer, for injected faults."""

    @abstractmethod
    def state_snapshot(self) -> dict[str, Any]:
        """Every task held, JSON-able: id, status, last accepted parameters."""

    @abstractmethod
    def drift(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Change a task behind the reconciler's back; raise ValueError for a bad request."""

    @abstractmethod
    def reset_tasks(self) -> None: ...

    def control_extra(self, name: str, request: EmulatorRequest) -> EmulatorResponse | None:
        """Vendor-specific control endpoints under /_emulator/<name>; None = not found."""
        return None

    # -- helpers for vendor modules ----------------------------------------------------------
    def request_id(self) -> str:
        return str(uuid.uuid4()).upper()

    def within_limit(self, action: str, credential: str) -> bool:
        """Check the documented limit of `action` for one credential; counts a throttle."""
        limit = self.limits.get(action)
        if limit is None:
            return True
        calls, window = limit
        if self.rates.allow(f"{credential}:{action}", calls, window):
            return True
        self.throttled += 1
        return False

    # -- dispatch ------------------------------------------------------------------------------
    def dispatch(self, request: EmulatorRequest) -> EmulatorResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return self._control(request)
        action = self.action_of(request)
        with self.lock:
            self.in_flight[action] += 1
        try:
            return self._dispatch_api(action, request)
        finally:
            with self.lock:
                self.in_flight[action] -= 1

    def _dispatch_api(self, action: str, request: EmulatorRequest) -> EmulatorResponse:
        fault = self._take_fault(action)
        lost = False
        if fault is not None:
            if fault.type == "hold" and not self._hold(action):
                raise DropConnection()
            if fault.latency_ms:
                time.sleep(fault.latency_ms / 1000)
            if fault.type == "error":
                response = self.error_response(request, fault.code, fault.status, fault.message)
                response.outcome = f"fault:{fault.code or fault.status}"
                self._account(action, request, response)
                return response
            if fault.type == "timeout":
                self._account(action, request, EmulatorResponse(0, b"", outcome="fault:timeout"))
                time.sleep(fault.seconds)
                raise DropConnection()
            lost = fault.type == "lost-response"
        response = self.handle(request)
        self._account(action, request, response)
        if lost:
            raise DropConnection()
        return response

    def _hold(self, action: str) -> bool:
        """Wait for a release; True = serve the call, False = drop it (reset, or the safety bound)."""
        call = HeldCall(action)
        with self.lock:
            self.held.append(call)
        call.released.wait(HOLD_SAFETY_SECONDS)
        with self.lock:
            if call in self.held:
                self.held.remove(call)
            return call.served

    def release(self, action: str | None = None, count: int | None = None, serve: bool = True) -> int:
        """Let the oldest held calls of `action` (any, if None) go on, at most `count` (all, if None):
        served normally, or dropped unanswered when `serve` is False."""
        with self.lock:
            chosen = [c for c in self.held if action in (None, c.action)][:count]
            for call in chosen:
                self.held.remove(call)
                call.served = serve
                call.released.set()
        return len(chosen)

    def _account(self, action: str, request: EmulatorRequest, response: EmulatorResponse) -> None:
        with self.lock:
            self.counts[action][response.outcome] += 1
            now = self.clock.now()
            span = self.spans.setdefault(action, [now, now])
            span[1] = now
            self.log.append({
                "time": round(now, 3),
                "action": action,
                "outcome": response.outcome,
                "method": request.method,
                "path": request.path,
                "params": {k: v for k, v in request.params().items()},
                "body": _body_for_log(request),
            })

    def _take_fault(self, action: str) -> FaultRule | None:
        with self.lock:
            for rule in list(self.faults):
                if rule.action not in ("*", action):
                    continue
                if rule.ratio is not None and self._random.random() >= rule.ratio:
                    continue
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self.faults.remove(rule)
                return rule
        return None

    def _control(self, request: EmulatorRequest) -> EmulatorResponse:
        name = request.path[len(CONTROL_PREFIX):].strip("/")
        try:
            body = request.json() if request.method == "POST" else None
        except ValueError:
            return EmulatorResponse.json(400, {"error": "body must be JSON"})
        body = body or {}
        with self.lock:
            if name == "state" and request.method == "GET":
                return EmulatorResponse.json(200, {"vendor": self.vendor, "clock": self.clock.now(),
                                                   "tasks": self.state_snapshot()})
            if name == "requests" and request.method == "GET":
                return EmulatorResponse.json(200, {
                    "vendor": self.vendor,
                    "total": sum(sum(c.values()) for c in self.counts.values()),
                    "actions": {a: dict(c) for a, c in self.counts.items()},
                    "throttled": self.throttled,
                    "inFlight": {a: n for a, n in self.in_flight.items() if n},
                    "held": dict(Counter(c.action for c in self.held)),
                    "spans": {a: list(span) for a, span in self.spans.items()},
                    "log": list(self.log),
                })
            if name == "faults":
                if request.method == "DELETE":
                    self.faults.clear()
                elif request.method == "POST":
                    try:
                        rules = body if isinstance(body, list) else [body]
                        self.faults.extend(FaultRule.from_json(r) for r in rules)
                    except (ValueError, TypeError) as exc:
                        return EmulatorResponse.json(400, {"error": str(exc)})
                return EmulatorResponse.json(200, {"faults": [f.as_json() for f in self.faults]})
            if name == "drift" and request.method == "POST":
                try:
                    return EmulatorResponse.json(200, self.drift(body))
                except (ValueError, KeyError) as exc:
                    return EmulatorResponse.json(400, {"error": str(exc)})
            if name == "clock" and request.method == "POST":
                if "freeze" in body:
                    self.clock.freeze(bool(body["freeze"]))
                self.clock.advance(float(body.get("advance", 0)))
                return EmulatorResponse.json(200, {"clock": self.clock.now()})
            if name == "limits" and request.method in ("POST", "GET"):
                if body.get("reset"):
                    self.limits = dict(self.DEFAULT_LIMITS)
                elif "action" in body:
                    window = float(body.get("window", 1.0))
                    self.limits[str(body["action"])] = (float(body["perSecond"]) * window, window)
                self.rates.clear()
                return EmulatorResponse.json(200, {"limits": {k: {"calls": v[0], "window": v[1]}
                                                              for k, v in self.limits.items()}})
            if name == "release" and request.method == "POST":
                count = body.get("count")
                if count is not None and (not isinstance(count, int) or count < 0):
                    return EmulatorResponse.json(400, {"error": "count must be a non-negative integer"})
                action = body.get("action")
                return EmulatorResponse.json(200, {"released": self.release(
                    None if action in (None, "*") else str(action), count)})
            if name == "reset" and request.method == "POST":
                self.release(serve=False)
                self.reset_tasks()
                self.faults.clear()
                self.counts.clear()
                self.log.clear()
                self.spans.clear()
                self.throttled = 0
                self.limits = dict(self.DEFAULT_LIMITS)
                self.rates.clear()
                self.clock.reset()
                return EmulatorResponse.json(200, {"reset": True})
            extra = self.control_extra(name, request)
            if extra is not None:
                return extra
        return EmulatorResponse.json(404, {"error": f"no control endpoint {request.method} /_emulator/{name}"})


def _body_for_log(request: EmulatorRequest) -> Any:
    if not request.body:
        return None
    if "json" in request.headers.get("content-type", "") or request.body[:1] in (b"{", b"["):
        try:
            return json.loads(request.body)
        except ValueError:
            pass
    return request.body.decode("utf-8", "replace")[:2000]
