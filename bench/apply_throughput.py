"""Benchmark: applying N Aliyun MPU tasks against the emulator, paced vs unpaced.

Paced is the shipped behaviour: a token bucket per AccessKey seeded from the documented limits
(StartMPUTask 500/s, GetMPUTaskStatus 4,000/min). Unpaced sends as fast as `--concurrency` allows,
the fixed-parallelism pattern that gets throttled; it recovers only through backoff retries.

Run from the repository root:
    python bench/apply_throughput.py --tasks 100
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

from reconciler.apply.connections import ConnectionOptions
from reconciler.emulator.cluster import EmulatorCluster, emulator_class
from reconciler.plan.planner import PlanOptions
from reconciler.ratelimit import RateLimit, RateLimiter
from reconciler.state import open_state
from reconciler.workflow import apply_manifests, plan_manifests


class Unpaced(RateLimiter):
    """No client-side pacing at all."""

    async def acquire(self, key: str, limit: RateLimit) -> None:
        return None


def write_manifests(root: Path, tasks: int) -> None:
    docs = ["""apiVersion: reconciler/v1
kind: Provider
metadata: {name: ali}
spec:
  vendor: aliyun
  appId: demo-aliyun-app
  credentials: {accessKeyId: {env: ALIYUN_ACCESS_KEY_ID}, accessKeySecret: {env: ALIYUN_ACCESS_KEY_SECRET}}
""", """apiVersion: reconciler/v1
kind: Layout
metadata: {name: pair}
spec:
  canvas: {width: 1280, height: 720}
  panes:
    - {user: host, x: 0, y: 0, width: 0.5, height: 1}
    - {user: guest, x: 0.5, y: 0, width: 0.5, height: 1}
"""]
    for i in range(tasks):
        docs.append(f"""apiVersion: reconciler/v1
kind: MixTask
metadata: {{name: room-{i:04d}}}
spec:
  provider: ali
  channel: room{i:04d}
  layout: pair
  output: {{streamUrl: "rtmp://push.example.com/live/room{i:04d}"}}
""")
    (root / "tasks.yaml").write_text("---\n".join(docs))


async def run(mode: str, tasks: int, concurrency: int, cluster: EmulatorCluster) -> dict[str, float]:
    url = cluster.endpoints["aliyun"]
    async with httpx.AsyncClient(timeout=5) as control:
        (await control.post(f"{url}/_emulator/reset")).raise_for_status()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_manifests(root, tasks)
        store = open_state(root / "state.db")
        # unpaced: the same workflow with a limiter that never waits; backoff retries are all that is left
        limiter = Unpaced() if mode == "unpaced" else None
        options = ConnectionOptions(endpoint_overrides=cluster.endpoints, limiter=limiter)
        started = time.perf_counter()
        outcome = await apply_manifests([root], store, options, PlanOptions(), concurrency=concurrency)
        applied = time.perf_counter() - started
        started = time.perf_counter()
        again = await plan_manifests([root], store, options, PlanOptions())
        replanned = time.perf_counter() - started
        store.close()
    async with httpx.AsyncClient(timeout=5) as control:
        stats = (await control.get(f"{url}/_emulator/requests")).json()
    failed = len(outcome.result.failed) if outcome.result else 0
    return {
        "apply_s": applied,
        "replan_s": replanned,
        "starts_per_s": tasks / applied,
        "requests": float(stats["total"]),
        "throttled": float(stats["throttled"]),
        "failed": float(failed),
        "second_plan_changes": float(len(again.plan.pending())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    os.environ.update(emulator_class("aliyun").DEMO_ENV)
    cluster = EmulatorCluster.start(vendors=["aliyun"])
    try:
        starts = emulator_class("aliyun").DEFAULT_LIMITS["StartMPUTask"][0]
        print(f"apply {args.tasks} Aliyun MPU tasks, concurrency {args.concurrency}, emulator limit {starts:g} starts/s")
        print(f"{'mode':<10}{'apply s':>9}{'starts/s':>10}{'re-plan s':>11}{'requests':>10}{'throttled':>11}"
              f"{'failed':>8}{'left':>6}")
        for mode in ("paced", "unpaced"):
            r = asyncio.run(run(mode, args.tasks, args.concurrency, cluster))
            print(f"{mode:<10}{r['apply_s']:>9.2f}{r['starts_per_s']:>10.1f}{r['replan_s']:>11.2f}"
                  f"{r['requests']:>10.0f}{r['throttled']:>11.0f}{r['failed']:>8.0f}{r['second_plan_changes']:>6.0f}")
    finally:
        cluster.stop()
    print(f"reproduce: {sys.executable.rsplit('/', 1)[-1]} bench/apply_throughput.py --tasks {args.tasks} "
          f"--concurrency {args.concurrency}")


if __name__ == "__main__":
    main()
