"""`reconciler watch`: the GitOps agent: reconcile on an interval until SIGTERM/SIGINT.

The first SIGTERM/SIGINT lets the run in flight finish (its lock is released, its vendor writes
recorded) and then exits 0; a second one cancels the run at once (the state keeps the intent of any
write in flight, so the next run resolves it by asking the vendor).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import click

from reconciler.commands.options import (
    build_connection_options,
    connection_options,
    open_store,
    paths_argument,
    state_option,
)
from reconciler.errors import ReconcilerError
from reconciler.metrics import MetricsServer, WatchMetrics, WatchStatus, metrics_app
from reconciler.watch import (
    DEFAULT_JITTER,
    DEFAULT_MAX_BACKOFF,
    EventLog,
    Watcher,
    WatchOptions,
    parse_interval,
)


def _duration(ctx: click.Context, param: click.Parameter, value: str) -> float:
    try:
        return parse_interval(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


@click.command("watch")
@paths_argument
@state_option
@connection_options
@click.option("--interval", default="60s", callback=_duration, metavar="DURATION", show_default=True,
              help="Time between runs: 30s, 5m, 1h, 1h30m.")
@click.option("--jitter", type=click.FloatRange(0, 0.5), default=DEFAULT_JITTER, show_default=True,
              help="Each wait varies by up to this share of itself.")
@click.option("--max-backoff", default=f"{DEFAULT_MAX_BACKOFF:g}s", callback=_duration, metavar="DURATION",
              show_default=True,
              help="Longest wait after failed runs (waits double from the interval; never below the interval).")
@click.option("--git-pull", is_flag=True, help="Run `git pull --ff-only` in the manifests' repository before each run.")
@click.option("--prune", is_flag=True, help="Stop resources that left the manifests (orphans).")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
              help="Serve Prometheus /metrics and /healthz on this port (0: any free port).")
@click.option("--metrics-address", default="127.0.0.1", show_default=True,
              help="Address the metrics server listens on (0.0.0.0 in a container).")
@click.option("--log-to", type=click.Choice(["stderr", "stdout"]), default="stderr", show_default=True,
              help="Where the JSON-lines log goes.")
@click.option("--max-runs", type=click.IntRange(1), default=None,
              help="Exit after this many runs: 0 when the last one succeeded, else 1.")
def watch_command(paths: tuple[Path, ...], state_url: str, endpoints_file: Path | None,
                  allowed_endpoints: tuple[str, ...], interval: float, jitter: float, max_backoff: float,
                  git_pull: bool, prune: bool, metrics_port: int | None, metrics_address: str, log_to: str,
                  max_runs: int | None) -> int:
    """Plan and apply every INTERVAL, repairing drift, until stopped (SIGTERM/SIGINT)."""
    log = EventLog(sys.stdout if log_to == "stdout" else sys.stderr)
    options = WatchOptions(tuple(paths), interval, jitter=jitter, max_backoff=max_backoff, git_pull=git_pull,
                           prune=prune, max_runs=max_runs)
    metrics = WatchMetrics()
    store = open_store(state_url, on_create=lambda message: log("state.created", message=message))
    server: MetricsServer | None = None
    try:
        watcher = Watcher(options, store, build_connection_options(endpoints_file, allowed_endpoints),
                          log=log, metrics=metrics)
        if metrics_port is not None:
            status: WatchStatus = watcher.status
            try:
                server = MetricsServer(metrics_app(metrics, status), metrics_address, metrics_port).start()
            except OSError as exc:
                raise ReconcilerError(f"cannot serve metrics on {metrics_address}:{metrics_port}: "
                                      f"{exc.strerror or exc}; choose another --metrics-port") from exc
            log("metrics.serving", message=f"metrics at {server.url}/metrics, health at {server.url}/healthz")
        cancelled = asyncio.run(_run_until_signalled(watcher))
    finally:
        if server is not None:
            server.stop()
        store.close()
    if cancelled:
        return 1
    last = watcher.last_report
    # with --max-runs the exit code tells a scheduler how the last run went; a signalled stop is a success
    return 1 if max_runs is not None and last is not None and last.outcome != "success" else 0


async def _run_until_signalled(watcher: Watcher) -> bool:
    """Run the loop with signal handlers installed; True when a second signal cut a run short."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    signals = (signal.SIGTERM, signal.SIGINT)

    def on_signal() -> None:
        if watcher.stopping and task is not None:
            task.cancel()  # second signal: do not wait for the run in flight
        watcher.request_stop()

    for signum in signals:
        loop.add_signal_handler(signum, on_signal)
    try:
        await watcher.run()
        return False
    except asyncio.CancelledError:
        watcher.log("watch.stopped", level="warning", run=watcher.runs or None,
                    message="cancelled by a second signal; an interrupted write is resolved by the next run")
        return True
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
