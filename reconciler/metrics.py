"""Prometheus metrics and the health endpoint of watch mode.

What is counted (names as scraped):
    reconciler_reconcile_runs_total{outcome}          one per run
    reconciler_run_duration_seconds{outcome}          histogram of how long each run took
    reconciler_changes_total{action, outcome}         one per change apply executed; action is the plan
                                                      action (create, update, stop, resume, pause,
                                                      replace, forget)
    reconciler_vendor_calls_total{vendor, outcome}    vendor *operations*, not HTTP requests: one per
                                                      executed change that calls a vendor (forget does
                                                      not), plus one `failed` per vendor error that
                                                      aborted a run (e.g. an observe during refresh);
                                                      retries inside a provider and successful
                                                      observes are not counted
    reconciler_drift_detected_total{kind}             one per resource per run whose plan says drift
    reconciler_last_success_timestamp_seconds         end of the last successful run (Unix time)
    reconciler_last_run_timestamp_seconds             end of the last run, whatever its outcome
    reconciler_consecutive_failed_runs                failed runs since the last success
    reconciler_build_info{version, python}            1, labelled with the installed version

One outcome vocabulary for every metric: `success`, `failed` (attempted, and it did not work),
`error` (a run stopped early) and `invalid` (the manifests did not validate); runs use all four,
changes and vendor calls `success` and `failed`. Every labelled series exists at 0 from start-up
(every outcome, action, vendor and managed kind), so `increase(...)` and `rate(...)` see the first
event after a restart instead of a series that appears already at 1.

Health (`GET /healthz`): 200 while the last run succeeded and ended within 3 intervals, or while no
run has ended yet and the agent started within 3 intervals; 503 otherwise (the last run failed, or
the loop has not finished a run for 3 intervals: it is stuck). The body is JSON saying why.

Each WatchMetrics has its own registry, so tests (and several watchers in one process) never share
counters. The HTTP server is a small threaded WSGI server: `/metrics` (and `/`) is
prometheus-client's exposition, `/healthz` is ours; it runs in a daemon thread beside the loop.
"""

from __future__ import annotations

import json
import platform
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app

from reconciler import __version__
from reconciler.model.base import VENDORS
from reconciler.model.registry import MANAGED_KINDS
from reconciler.plan.types import Action

OUTCOMES = ("success", "failed", "error", "invalid")  # the one vocabulary of every metric's `outcome`
RUN_OUTCOMES = OUTCOMES
STEP_OUTCOMES = ("success", "failed")  # a change, a vendor operation: it worked or it did not
ACTIONS = tuple(a.value for a in Action if a.writes)
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
HEALTH_WINDOW_INTERVALS = 3

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class WatchMetrics:
    def __init__(self, registry: CollectorRegistry | None = None, *, vendors: Iterable[str] = VENDORS,
                 kinds: Iterable[str] | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.runs = Counter("reconciler_reconcile_runs", "Reconcile runs by outcome.", ["outcome"], registry=r)
        self.duration = Histogram("reconciler_run_duration_seconds", "How long reconcile runs took, by outcome.",
                                  ["outcome"], buckets=DURATION_BUCKETS, registry=r)
        self.changes = Counter("reconciler_changes", "Changes executed by apply, by plan action and outcome.",
                               ["action", "outcome"], registry=r)
        self.vendor_calls = Counter("reconciler_vendor_calls",
                                    "Vendor operations (one per executed change, plus errors that aborted a run).",
                                    ["vendor", "outcome"], registry=r)
        self.drift_detected = Counter("reconciler_drift_detected", "Resources found drifted, per run.", ["kind"],
                                      registry=r)
        self.last_success = Gauge("reconciler_last_success_timestamp_seconds",
                                  "Unix time the last successful run ended.", registry=r)
        self.last_run = Gauge("reconciler_last_run_timestamp_seconds", "Unix time the last run ended.", registry=r)
        self.consecutive_failures = Gauge("reconciler_consecutive_failed_runs",
                                          "Failed runs since the last successful one.", registry=r)
        self.build_info = Gauge("reconciler_build_info", "Always 1; the labels say which build runs.",
                                ["version", "python"], registry=r)
        self.build_info.labels(__version__, platform.python_version()).set(1)
        # every series at 0 from the start, so rate() and increase() see the first event after a restart
        for outcome in RUN_OUTCOMES:
            self.runs.labels(outcome)
            self.duration.labels(outcome)
        for action in ACTIONS:
            for outcome in STEP_OUTCOMES:
                self.changes.labels(action, outcome)
        for vendor in vendors:
            for outcome in STEP_OUTCOMES:
                self.vendor_calls.labels(vendor, outcome)
        for kind in sorted(MANAGED_KINDS if kinds is None else kinds):
            self.drift_detected.labels(kind)

    def run(self, outcome: str, now: float, duration: float | None = None) -> None:
        self.runs.labels(outcome).inc()
        if duration is not None:
            self.duration.labels(outcome).observe(max(duration, 0.0))
        self.last_run.set(now)
        if outcome == "success":
            self.last_success.set(now)
            self.consecutive_failures.set(0)
        else:
            self.consecutive_failures.inc()

    def change(self, action: str, outcome: str) -> None:
        self.changes.labels(action, outcome).inc()

    def vendor_call(self, vendor: str, outcome: str) -> None:
        self.vendor_calls.labels(vendor, outcome).inc()

    def drift(self, kind: str) -> None:
        self.drift_detected.labels(kind).inc()

    def value(self, name: str, labels: dict[str, str] | None = None) -> float:
        """A sample's current value (0 when absent); for tests and the CLI's closing line."""
        found = self.registry.get_sample_value(name, labels or {})
        return found if found is not None else 0.0


@dataclass
class WatchStatus:
    """What the health check needs; written by the loop, read by the server thread."""

    started_at: float
    interval: float
    last_outcome: str | None = None
    last_run_at: float | None = None
    last_success_at: float | None = None
    consecutive_failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, outcome: str, now: float, consecutive_failures: int) -> None:
        with self._lock:
            self.last_outcome, self.last_run_at = outcome, now
            self.consecutive_failures = consecutive_failures
            if outcome == "success":
                self.last_success_at = now

    def health(self, now: float) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body): see the module docstring for the rule."""
        with self._lock:
            window = HEALTH_WINDOW_INTERVALS * self.interval
            body: dict[str, Any] = {
                "lastOutcome": self.last_outcome, "lastRunAt": self.last_run_at,
                "lastSuccessAt": self.last_success_at, "consecutiveFailures": self.consecutive_failures,
            }
            if self.last_run_at is None:
                healthy = now - self.started_at <= window
                reason = ("no run has finished yet" if healthy
                          else f"no run has finished in {now - self.started_at:.0f}s (3 intervals: {window:g}s)")
            elif self.last_outcome != "success":
                healthy, reason = False, f"the last run ended with {self.last_outcome}"
            else:
                healthy = now - self.last_run_at <= window
                reason = ("the last run succeeded" if healthy
                          else f"no run has finished for {now - self.last_run_at:.0f}s (3 intervals: {window:g}s)")
        body["status"] = "ok" if healthy else "unhealthy"
        body["reason"] = reason
        return (200 if healthy else 503), body


def metrics_app(metrics: WatchMetrics, status: WatchStatus, clock: Callable[[], float] = time.time) -> WsgiApp:
    exposition = make_wsgi_app(metrics.registry)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/healthz":
            code, body = status.health(clock())
            reason = "OK" if code == 200 else "Service Unavailable"
            payload = (json.dumps(body) + "\n").encode()
            start_response(f"{code} {reason}", [("Content-Type", "application/json"),
                                                ("Content-Length", str(len(payload)))])
            return [payload]
        if path in ("/", "/metrics"):
            served: Iterable[bytes] = exposition(environ, start_response)
            return served
        payload = b"not found: try /metrics or /healthz\n"
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(payload)))])
        return [payload]

    return app


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # scrapes every few seconds would flood the log
        pass


class MetricsServer:
    """Serves `/metrics` and `/healthz` on host:port (port 0 picks a free one) in a daemon thread."""

    def __init__(self, app: WsgiApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = make_server(host, port, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        host = self._server.server_address[0]
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{host}:{self.port}"

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
