"""The benchmark: this tool against a sequential signed-httpx loop and a fixed 10-way parallel loop.

One command, from the repository root (about 3 minutes on 2 cores):

    python bench/run.py

For N = 100 and 1,000 Aliyun MPU tasks against the emulator (run in its own process): validate, a
paced apply at the documented limits, a no-op plan right after it, and an apply with pacing off
against an emulator whose limits are lifted; for N = 10,000 (500 files) validate and a local-only
no-op plan (state in sync, no vendor calls). Then start-up: `reconciler --help` and `validate`.
Every figure is printed with its floor: the documented rate limit, libyaml's C loader on the same
files, the sequential loop, or bare `python -c pass`. `--sizes` and `--local` choose other N.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loops import Job, SignedLoop, start_jobs, status_jobs, update_jobs  # noqa: E402
from bench.manifests import switch_layout, write_manifests  # noqa: E402
from reconciler.apply.connections import ConnectionOptions  # noqa: E402
from reconciler.model import load_manifests  # noqa: E402
from reconciler.model.provider import ProviderSpec  # noqa: E402
from reconciler.plan.planner import PlanOptions  # noqa: E402
from reconciler.providers.base import ProviderContext  # noqa: E402
from reconciler.ratelimit import RateLimit, RateLimiter  # noqa: E402
from reconciler.state import open_state  # noqa: E402
from reconciler.vendors.aliyun.emulator import AliyunEmulator  # noqa: E402
from reconciler.vendors.aliyun.provider import AliyunProvider  # noqa: E402
from reconciler.workflow import apply_manifests, plan_manifests  # noqa: E402

TASKS_PER_FILE = 20
ACCOUNT = AliyunEmulator.DEMO_ACCOUNTS[0]
LOOP_BUDGET_S = 30.0  # a paced loop whose floor is longer than this is not run (it is floor-bound anyway)
ROW = "{:<25}{:>6}  {:<23}{:<50}{:<24}{:<22}"


class Unpaced(RateLimiter):
    """No client-side pacing at all."""

    async def acquire(self, key: str, limit: RateLimit) -> None:
        return None


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.system()} {platform.machine()}, {model}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, load average {load:.1f}")


def libyaml_seconds(root: Path) -> float:
    import yaml

    started = time.perf_counter()
    for path in sorted(root.glob("*.yaml")):
        list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader))
    return time.perf_counter() - started


def local_child(tasks: int) -> None:
    """In a fresh process: validate and a local-only no-op plan of `tasks` tasks; prints JSON."""
    import resource

    from reconciler.plan import make_plan
    from reconciler.records import Intent, ResourceRecord
    from reconciler.render.text import summary_line

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "m"
        write_manifests(root, tasks, max(1, tasks // TASKS_PER_FILE))
        floor = libyaml_seconds(root)
        started = time.perf_counter()
        load_manifests([root])
        validate = time.perf_counter() - started
        store = open_state(Path(tmp) / "state.db")
        for d in load_manifests([root]).desired():  # state in sync with the manifests
            record = ResourceRecord(d.address, d.kind, d.name, d.provider, d.vendor, {"TaskId": d.name}, 1, None)
            store.record_intent(record, Intent("create", {"TaskId": d.name}, d.spec, "active", 1, "now"))
            store.record_outcome(d.address, handles={"TaskId": d.name}, generation=1, last_applied=d.spec,
                                 lifecycle="active")
        plan_floor = libyaml_seconds(root)  # again, next to the plan: the machine's pace drifts over a run
        started = time.perf_counter()
        manifests = load_manifests([root])
        plan = make_plan(manifests.desired(), store.records(), {}, state_serial=store.serial(),
                         manifest_fingerprint=manifests.fingerprint, created_at="now")
        line = summary_line(plan)
        planned = time.perf_counter() - started
        store.close()
        assert not plan.pending(), line
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"libyaml": floor, "validate": validate, "plan_libyaml": plan_floor, "plan": planned,
                      "rss_mb": rss}))


def run_local(tasks: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--local-child", str(tasks)], capture_output=True, text=True,
                          check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


class Emulator:
    """The emulators in their own process, so they do not share this one's interpreter lock."""

    def __init__(self, workdir: Path) -> None:
        endpoints = workdir / "endpoints.json"
        self.process = subprocess.Popen([sys.executable, "-m", "reconciler", "emulator", "--endpoints-file",
                                         str(endpoints)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            if endpoints.exists():
                break
            time.sleep(0.05)
        self.endpoints: dict[str, str] = json.loads(endpoints.read_text())
        self.url = self.endpoints["aliyun"]

    def control(self, name: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.url}/_emulator/{name}"
        response = httpx.post(url, json=body or {}) if body is not None or name == "reset" else httpx.get(url)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def reset(self, unlimited: bool) -> None:
        self.control("reset")
        if unlimited:
            for action in AliyunEmulator.DEFAULT_LIMITS:
                self.control("limits", {"action": action, "perSecond": 1_000_000})

    def cpu_seconds(self) -> float | None:
        """CPU time the emulator process used so far (Linux /proc), or None elsewhere."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def throttled(self) -> int:
        return int(self.control("requests")["throttled"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def offline_provider() -> AliyunProvider:
    spec = ProviderSpec.model_validate({"vendor": "aliyun", "appId": ACCOUNT["appId"], "credentials": {}})
    return AliyunProvider(ProviderContext(name="ali", spec=spec, endpoint="http://127.0.0.1:1",
                                          client=None))  # type: ignore[arg-type]


def task_ids(desired: list[Any]) -> dict[str, str]:
    provider = offline_provider()
    return {d.address: provider.new_handles(d.kind, d.name, d.spec, 1)["TaskId"] for d in desired}


def layout_params(desired: list[Any]) -> dict[str, dict[str, str]]:
    """The layout part of each StartMPUTask (a documented preset: worked out without a call)."""
    provider = offline_provider()

    async def all_params() -> dict[str, dict[str, str]]:
        return {d.address: await provider.layouts.task_params(d.spec) for d in desired}

    return asyncio.run(all_params())


async def tool_apply(root: Path, emulator: Emulator, paced: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_state(Path(tmp) / "state.db")
        options = ConnectionOptions(endpoint_overrides=emulator.endpoints, limiter=None if paced else Unpaced())
        started = time.perf_counter()
        outcome = await apply_manifests([root], store, options, PlanOptions())
        elapsed = time.perf_counter() - started
        store.close()
    assert outcome.result is not None and not outcome.result.failed
    return elapsed


async def tool_apply_then_plan(root: Path, emulator: Emulator) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_state(Path(tmp) / "state.db")
        options = ConnectionOptions(endpoint_overrides=emulator.endpoints)
        started = time.perf_counter()
        outcome = await apply_manifests([root], store, options, PlanOptions())
        applied = time.perf_counter() - started
        assert outcome.result is not None and not outcome.result.failed
        started = time.perf_counter()
        again = await plan_manifests([root], store, options, PlanOptions())
        planned = time.perf_counter() - started
        store.close()
    assert not again.plan.pending()
    return applied, planned


def loop_seconds(emulator: Emulator, jobs: list[Job], parallel: int) -> tuple[float, int]:
    loop = SignedLoop(emulator.url, ACCOUNT["appId"], ACCOUNT["accessKeyId"], ACCOUNT["accessKeySecret"])
    started = time.perf_counter()
    asyncio.run(loop.run(jobs, parallel))
    return time.perf_counter() - started, loop.throttled


def window_floor(calls: int, limit: RateLimit) -> float:
    """The vendor's sliding window lets `limit.calls` through at once, then as many more each window."""
    return max(0.0, (-(-calls // limit.calls) - 1) * limit.window)


def cli_seconds(args: list[str]) -> float:
    """Wall time of `reconciler ARGS` as a user runs it (start-up and printed output included)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "reconciler", *args], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-2000:]
    return elapsed


def cli_common(state: Path, workdir: Path) -> list[str]:
    """The options every CLI run of the benchmark takes: its own state, the emulators' endpoints."""
    return ["--state", f"sqlite:///{state}", "--endpoints-file", str(workdir / "endpoints.json")]


ONE_WINDOW = "1 window"


def reached(requests: dict[str, Any], action: str, floor: float) -> str:
    """The share of the limit `action`'s writes reached at the emulator: the floor over the time from
    its first to its last answer ("1 window" when all fit in one window, where there is no rate)."""
    first, last = requests["spans"][action]
    return f"{floor / (last - first):.2f}" if floor > 0 and last > first else ONE_WINDOW


def fmt(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:.0f} s"


def emulated_rows(tasks: int, emulator: Emulator, workdir: Path) -> list[str]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "m"
        write_manifests(root, tasks, max(1, tasks // TASKS_PER_FILE))
        desired = load_desired(root)
        ids = task_ids(desired)
        starts = start_jobs(ACCOUNT["appId"], desired, ids, layout_params(desired))
        statuses = status_jobs(ACCOUNT["appId"], ids)
        limit = AliyunProvider.RATE_LIMITS["StartMPUTask"]
        floor = window_floor(tasks, limit)

        # paced, at the documented limits
        emulator.reset(unlimited=False)
        applied, planned = asyncio.run(tool_apply_then_plan(root, emulator))
        throttled = emulator.throttled()
        cells = [f"{fmt(applied)} ({floor / applied:.2f} of limit, {throttled} throttled)"]
        plan_cells = []
        for parallel in (1, 10):
            if floor > LOOP_BUDGET_S:
                cells.append("not run (floor-bound)")
                continue
            emulator.reset(unlimited=False)
            seconds, thr = loop_seconds(emulator, starts, parallel)
            cells.append(f"{fmt(seconds)} ({floor / seconds:.2f}, {thr} thr.)")
        emulator.reset(unlimited=True)
        loop_seconds(emulator, starts, 10)  # tasks to observe
        for parallel in (1, 10):
            seconds, _ = loop_seconds(emulator, statuses, parallel)
            plan_cells.append(seconds)
        rows.append(ROW.format("apply, paced", tasks, f"limit {limit.per_second:g}/s: {fmt(floor)}", *cells))
        sequential = plan_cells[0]
        rows.append(ROW.format("no-op plan (observes)", tasks, f"seq. loop {fmt(sequential)}",
                               f"{fmt(planned)} ({planned / sequential:.2f}x, "
                               f"{(planned - sequential) / tasks * 1000:+.2f} ms/res)",
                               f"{fmt(sequential)} (1.00x)", f"{fmt(plan_cells[1])} ({plan_cells[1] / sequential:.2f}x)"))

        # pacing off, emulator unlimited: the tool's own cost
        emulator.reset(unlimited=True)
        seq, _ = loop_seconds(emulator, starts, 1)
        emulator.reset(unlimited=True)
        par, _ = loop_seconds(emulator, starts, 10)
        emulator.reset(unlimited=True)
        tool = asyncio.run(tool_apply(root, emulator, paced=False))
        rows.append(ROW.format("apply, unpaced+unlimited", tasks, f"seq. loop {fmt(seq)}",
                               f"{fmt(tool)} ({tool / seq:.2f}x)", f"{fmt(seq)} (1.00x)",
                               f"{fmt(par)} ({par / seq:.2f}x)"))
        rows.append(layout_update_row(tasks, root, emulator, workdir, desired, ids))
    rows.append(two_keys_row(tasks, emulator, workdir))
    return rows


def layout_update_row(tasks: int, root: Path, emulator: Emulator, workdir: Path, desired: list[Any],
                      ids: dict[str, str]) -> str:
    """Every task's layout changed, applied by the command line as a user runs it, paced at the
    UpdateMPULayout limit: the figure is the rate its writes reached (first to last answer, at the
    emulator), beside the whole command's time (start-up, observing every task, printing included)."""
    limit = AliyunProvider.RATE_LIMITS["UpdateMPULayout"]
    floor = window_floor(tasks, limit)
    emulator.reset(unlimited=False)
    common = cli_common(workdir / f"layout-{tasks}.db", workdir)
    cli_seconds(["apply", *common, "--auto-approve", str(root)])  # every task running, preset 1
    switch_layout(root)
    before = emulator.throttled()
    seconds = cli_seconds(["apply", *common, "--auto-approve", str(root)])
    requests = emulator.control("requests")
    assert sum(requests["actions"]["UpdateMPULayout"].values()) == tasks, requests["actions"]
    share = reached(requests, "UpdateMPULayout", floor)
    rate = share if share == ONE_WINDOW else f"writes at {share} of limit"
    cells = [f"{fmt(seconds)} ({rate}, {emulator.throttled() - before} thr.)"]
    updates = update_jobs(ACCOUNT["appId"], desired, ids, layout_params(load_desired(root)))
    for parallel in (1, 10):
        if floor > LOOP_BUDGET_S:
            cells.append("not run (floor-bound)")
            continue
        before = emulator.throttled()
        loop, _ = loop_seconds(emulator, updates, parallel)
        cells.append(f"{fmt(loop)} ({floor / loop:.2f}, {emulator.throttled() - before} thr.)")
    return ROW.format("layout update, paced, CLI", tasks, f"limit {limit.per_second:g}/s: {fmt(floor)}", *cells)


def two_keys_row(tasks: int, emulator: Emulator, workdir: Path) -> str:
    """Two AccessKeys, two actions each, at once: a quarter of the tasks per key and action gets its
    layout changed (UpdateMPULayout) or leaves the manifests (StopMPUTask with --prune). Each
    (key, action) has its own 20/s: the figure is the rate each action's writes reached."""
    limits = {action: AliyunProvider.RATE_LIMITS[action] for action in ("UpdateMPULayout", "StopMPUTask")}
    per_pair = tasks // 4  # tasks per key and action
    floors = {action: window_floor(per_pair, limit) for action, limit in limits.items()}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "m"
        files = max(1, tasks // TASKS_PER_FILE)
        write_manifests(root, tasks, files, two_keys=True)
        emulator.reset(unlimited=False)
        common = cli_common(Path(tmp) / "state.db", workdir)
        cli_seconds(["apply", *common, "--auto-approve", str(root)])
        write_manifests(root, tasks, files, two_keys=True, keep=lambda i: (i // 2) % 2 == 0)
        switch_layout(root)
        before = emulator.throttled()
        seconds = cli_seconds(["apply", *common, "--auto-approve", "--prune", str(root)])
        requests = emulator.control("requests")
    for action in floors:
        assert sum(requests["actions"][action].values()) == 2 * per_pair, requests["actions"]
    update, stop = (reached(requests, action, floor) for action, floor in floors.items())
    shares = f"update {update}, stop {stop}" + ("" if update == ONE_WINDOW else " of limit")
    cell = f"{fmt(seconds)} ({shares}, {emulator.throttled() - before} thr.)"
    rates = sorted({f"{limit.per_second:g}/s" for limit in limits.values()})
    floor_text = f"{'/'.join(rates)} each: {fmt(max(floors.values()))}"
    return ROW.format("update+stop, 2 keys, CLI", tasks, floor_text, cell, "-", "-")


def load_desired(root: Path) -> list[Any]:
    return [d for d in load_manifests([root]).desired() if d.kind == "MixTask"]


def emulator_line(emulator: Emulator, calls: int = 1000) -> str:
    """Whether the emulator could be the bound: its CPU per answered call beside the client's, for a
    sequential loop of status reads (each side has a core of its own on 2 cores)."""
    emulator.reset(unlimited=True)
    jobs = [[("GetMPUTaskStatus", {"AppId": ACCOUNT["appId"], "TaskId": f"t{i}"})] for i in range(calls)]
    before, client = emulator.cpu_seconds(), time.process_time()
    loop_seconds(emulator, jobs, 1)
    after, client = emulator.cpu_seconds(), time.process_time() - client
    if before is None or after is None:
        return "emulator: CPU per call not measured (no /proc)"
    served, asked = (after - before) / calls, client / calls
    verdict = "the emulator is not the bound" if served < asked else "the emulator may be the bound"
    return (f"emulator: {served * 1000:.2f} ms CPU per call answered, the sequential loop's client "
            f"{asked * 1000:.2f} ms: {verdict}")


def local_rows(tasks: int) -> list[str]:
    result = run_local(tasks)
    floor = result["libyaml"]
    return [
        ROW.format("validate", tasks, f"libyaml {fmt(floor)}",
                   f"{fmt(result['validate'])} ({result['validate'] / floor:.2f}x)", "-", "-"),
        ROW.format("no-op plan, local-only", tasks, f"libyaml {fmt(result['plan_libyaml'])}",
                   f"{fmt(result['plan'])} ({result['plan'] / result['plan_libyaml']:.2f}x, {result['rss_mb']:.0f} MB)",
                   "-", "-"),
    ]


def startup_rows(repeat: int) -> list[str]:
    """Bare python, `--help` and `validate`, timed in alternation (one of each per round), so a burst of
    other work on the machine lands on all three alike; each figure is its median over the rounds."""
    repo = Path(__file__).resolve().parents[1]
    # bytecode compiled first, as an installed package has it (pip compiles on install): an editable
    # checkout run with PYTHONDONTWRITEBYTECODE would otherwise compile every module at every start
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(repo / "reconciler")], capture_output=True, check=False)
    commands = {"bare": [sys.executable, "-c", "pass"],
                "start-up: --help": [sys.executable, "-m", "reconciler", "--help"],
                "start-up: validate": [sys.executable, "-m", "reconciler", "validate", str(repo / "examples" / "aliyun")]}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, argv in commands.items():
            started = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=False)
            times[name].append(time.perf_counter() - started)
    bare = statistics.median(times["bare"])
    rows = []
    for label in ("start-up: --help", "start-up: validate"):
        seconds = statistics.median(times[label])
        rows.append(ROW.format(label, "-", f"python -c pass {fmt(bare)}",
                               f"{fmt(seconds)} (+{(seconds - bare) * 1000:.0f} ms)", "-", "-"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000", help="N for the emulator rows (comma-separated)")
    parser.add_argument("--local", default="100,1000,10000", help="N for validate and the local-only plan")
    parser.add_argument("--repeat", type=int, default=15, help="rounds of start-up timings (medians are shown)")
    parser.add_argument("--local-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.local_child is not None:
        local_child(args.local_child)
        return
    os.environ.update(AliyunEmulator.DEMO_ENV)
    other = AliyunEmulator.DEMO_ACCOUNTS[1]
    os.environ.update({"ALIYUN_OTHER_ACCESS_KEY_ID": other["accessKeyId"],
                       "ALIYUN_OTHER_ACCESS_KEY_SECRET": other["accessKeySecret"]})
    started = time.perf_counter()
    print(f"machine: {machine()}")
    print(ROW.format("phase", "N", "floor", "this tool", "sequential loop", "10-way loop"))
    for tasks in (int(n) for n in args.local.split(",") if n):
        for row in local_rows(tasks):
            print(row, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        emulator = Emulator(Path(tmp))
        try:
            for tasks in (int(n) for n in args.sizes.split(",") if n):
                for row in emulated_rows(tasks, emulator, Path(tmp)):
                    print(row, flush=True)
            emulator_note = emulator_line(emulator)
        finally:
            emulator.stop()
    for row in startup_rows(args.repeat):
        print(row, flush=True)
    print(emulator_note)
    print(f"total {fmt(time.perf_counter() - started)}; load average now {os.getloadavg()[0]:.1f}; "
          f"reproduce: python bench/run.py --sizes {args.sizes} --local {args.local} --repeat {args.repeat}")


if __name__ == "__main__":
    main()
