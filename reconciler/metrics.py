"""Prometheus metrics and the health endpoint of watch mode.

What is counted (names as scraped):
    reconciler_reconcile_runs_total{outcome}          one per run: success | failed | error | invalid
    reconciler_changes_total{action, outcome}         one per change apply executed; action is the plan
                                                      action (create, update, stop, resume, pause,
                                                      replace, forget), outcome ok | failed
    reconciler_vendor_calls_total{vendor, outcome}    vendor *operations*, not HTTP requests: one per
                                                      executed change that calls a vendor (forget does
                                                      not), outcome ok | error, plus one `error` per
                                                      vendor error that aborted a run (e.g. an observe
                                                      during refresh); retries inside a provider and
                                                      successful observes are not counted
    reconciler_drift_detected_total{kind}             one per resource per run whose plan says drift
    reconciler_last_success_timestamp_seconds         end of the last successful run (Unix time)
    reconciler_last_run_timestamp_seconds             end of the last run, whatever its outcome
    reconciler_consecutive_failed_runs                failed runs since the last success

Health (`GET /healthz`): 200 while the last run succeeded and ended within 3 intervals, or while no
run has ended yet and the agent started within 3 intervals; 503 otherwise (the last run failed, or
the loop has not finished a run for 3 intervals: it is stuck). The body is JSON saying why.

Each WatchMetrics has its own registry, so tests (and several watchers in one process) never share
counters. The HTTP server is a small threaded WSGI server: `/metrics` (and `/`) is
prometheus-client's exposition, `/healthz` is ours; it runs in a daemon thread beside the loop.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, make_wsgi_app

RUN_OUTCOMES = ("success", "failed", "error", "invalid")
HEALTH_WINDOW_INTERVALS = 3

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class WatchMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.runs = Counter("reconciler_reconcile_runs", "Reconcile runs by outcome.", ["outcome"], registry=r)
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
        for outcome in RUN_OUTCOMES:
            self.runs.labels(outcome)  # present at 0, so rate() works from the first scrape

    def run(self, outcome: str, now: float) -> None:
        self.runs.labels(outcome).inc()
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
