"""Watch-mode metrics and health: the counters, the health rule, and both endpoints over HTTP."""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Iterator

import httpx
import pytest

from reconciler.metrics import MetricsServer, WatchMetrics, WatchStatus, metrics_app

INTERVAL = 60.0


@pytest.mark.parametrize("runs, now, code, reason", [
    ([], 1000 + 180, 200, "no run has finished yet"),
    ([], 1000 + 181, 503, "no run has finished in 181s (3 intervals: 180s)"),
    ([("success", 1010)], 1010 + 180, 200, "the last run succeeded"),
    ([("success", 1010)], 1010 + 200, 503, "no run has finished for 200s (3 intervals: 180s)"),
    ([("success", 1010), ("error", 1070)], 1071, 503, "the last run ended with error"),
    ([("invalid", 1010), ("success", 1070)], 1071, 200, "the last run succeeded"),
])
def test_health_rule(runs: list[tuple[str, float]], now: float, code: int, reason: str) -> None:
    status = WatchStatus(started_at=1000, interval=INTERVAL)
    failures = 0
    for outcome, at in runs:
        failures = 0 if outcome == "success" else failures + 1
        status.record(outcome, at, failures)
    got_code, body = status.health(now)
    assert (got_code, body["reason"], body["status"]) == (code, reason, "ok" if code == 200 else "unhealthy")


def test_run_bookkeeping() -> None:
    m = WatchMetrics()
    assert m.value("reconciler_reconcile_runs_total", {"outcome": "invalid"}) == 0
    m.run("success", 100.0)
    m.run("error", 160.0)
    m.run("invalid", 220.0)
    assert m.value("reconciler_last_success_timestamp_seconds") == 100.0
    assert m.value("reconciler_last_run_timestamp_seconds") == 220.0
    assert m.value("reconciler_consecutive_failed_runs") == 2
    m.run("success", 280.0)
    assert m.value("reconciler_consecutive_failed_runs") == 0
    assert m.value("reconciler_reconcile_runs_total", {"outcome": "success"}) == 2


@pytest.fixture
def served() -> Iterator[tuple[MetricsServer, WatchMetrics, WatchStatus, list[float]]]:
    metrics = WatchMetrics()
    status = WatchStatus(started_at=1000, interval=INTERVAL)
    now = [1000.0]
    server = MetricsServer(metrics_app(metrics, status, lambda: now[0]), "127.0.0.1", 0).start()
    yield server, metrics, status, now
    server.stop()


def test_endpoints(served: tuple[MetricsServer, WatchMetrics, WatchStatus, list[float]]) -> None:
    server, metrics, status, _now = served
    assert server.port > 0
    metrics.run("success", 1005.0)
    metrics.change("create", "success")
    metrics.vendor_call("aliyun", "success")
    metrics.drift("MixTask")
    status.record("success", 1005.0, 0)
    text = httpx.get(f"{server.url}/metrics", timeout=5).text
    for sample in ('reconciler_reconcile_runs_total{outcome="success"} 1.0',
                   'reconciler_reconcile_runs_total{outcome="error"} 0.0',
                   'reconciler_changes_total{action="create",outcome="success"} 1.0',
                   'reconciler_vendor_calls_total{outcome="success",vendor="aliyun"} 1.0',
                   'reconciler_drift_detected_total{kind="MixTask"} 1.0',
                   "reconciler_last_success_timestamp_seconds 1005.0"):
        assert sample in text
    healthy = httpx.get(f"{server.url}/healthz", timeout=5)
    assert healthy.status_code == 200
    assert healthy.json() == {"lastOutcome": "success", "lastRunAt": 1005.0, "lastSuccessAt": 1005.0,
                              "consecutiveFailures": 0, "status": "ok", "reason": "the last run succeeded"}
    status.record("error", 1070.0, 1)
    unhealthy = httpx.get(f"{server.url}/healthz", timeout=5)
    assert unhealthy.status_code == 503
    assert unhealthy.json()["reason"] == "the last run ended with error"
    missing = httpx.get(f"{server.url}/nope", timeout=5)
    assert (missing.status_code, missing.text) == (404, "not found: try /metrics or /healthz\n")


def test_every_series_exists_at_zero_from_start_up_so_the_first_event_is_an_increase(
        served: tuple[MetricsServer, WatchMetrics, WatchStatus, list[float]]) -> None:
    server, metrics, _status, _now = served
    text = httpx.get(f"{server.url}/metrics", timeout=5).text
    for kind in ("MixTask", "Recording", "StreamRule"):
        assert f'reconciler_drift_detected_total{{kind="{kind}"}} 0.0' in text
    for vendor in ("aliyun", "anyrtc", "tencent", "zego"):
        for outcome in ("success", "failed"):
            assert f'reconciler_vendor_calls_total{{outcome="{outcome}",vendor="{vendor}"}} 0.0' in text
    for action in ("create", "update", "stop", "resume", "pause", "replace", "forget"):
        assert f'reconciler_changes_total{{action="{action}",outcome="failed"}} 0.0' in text
    for outcome in ("success", "failed", "error", "invalid"):
        assert f'reconciler_run_duration_seconds_count{{outcome="{outcome}"}} 0.0' in text
    outcomes = set(re.findall(r'outcome="([a-z]+)"', text))
    assert outcomes == {"success", "failed", "error", "invalid"}  # one vocabulary across metrics
    [info] = [line for line in text.splitlines() if line.startswith("reconciler_build_info{")]
    assert f'version="{importlib.metadata.version("rtc-reconciler")}"' in info and info.endswith(" 1.0")

    metrics.run("success", 1010.0, duration=3.0)
    text = httpx.get(f"{server.url}/metrics", timeout=5).text
    assert 'reconciler_run_duration_seconds_bucket{le="5.0",outcome="success"} 1.0' in text
    assert 'reconciler_run_duration_seconds_bucket{le="2.5",outcome="success"} 0.0' in text
    assert 'reconciler_run_duration_seconds_sum{outcome="success"} 3.0' in text
