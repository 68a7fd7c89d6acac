"""The terminal plan: one heading per provider, one line per change, and the documented summary line."""

from __future__ import annotations

import io
from typing import Any

from reconciler.model.desired import DesiredResource
from reconciler.plan import make_plan
from reconciler.records import Observation, ResourceRecord
from reconciler.render.text import render_plan

SPEC: dict[str, Any] = {"channel": "c", "output": {"streamUrl": "rtmp://h/a"}}


def desired(name: str, provider: str, vendor: str, lifecycle: str = "active") -> DesiredResource:
    return DesiredResource(f"MixTask/{name}", "MixTask", name, provider, vendor, lifecycle, SPEC)  # type: ignore[arg-type]


def record(name: str, provider: str, vendor: str) -> ResourceRecord:
    return ResourceRecord(f"MixTask/{name}", "MixTask", name, provider, vendor, {"TaskId": name}, 1, SPEC, "active")


def test_changes_are_grouped_per_provider_with_the_summary_line() -> None:
    wanted = [desired("a", "ali-prod", "aliyun"), desired("b", "ali-prod", "aliyun", "inactive"),
              desired("c", "zego-prod", "zego"), desired("d", "zego-prod", "zego")]
    records = {r.address: r for r in (record("b", "ali-prod", "aliyun"), record("d", "zego-prod", "zego"))}
    observations = {a: Observation("active") for a in records}
    plan = make_plan(wanted, records, observations, state_serial=1, manifest_fingerprint="f", created_at="t")
    out = io.StringIO()
    render_plan(plan, out)
    assert out.getvalue().splitlines() == [
        "aliyun · Provider/ali-prod",
        "  + MixTask/a  start",
        "      new in the manifests",
        '      channel: "c"',
        '      output.streamUrl: "rtmp://h/a"',
        "  - MixTask/b  stop",
        "      the manifest asks for it to stop",
        "zego · Provider/zego-prod",
        "  + MixTask/c  start",
        "      new in the manifests",
        '      channel: "c"',
        '      output.streamUrl: "rtmp://h/a"',
        "Plan: 2 to start, 0 to update, 1 to stop, 0 to resume, 1 unchanged",
    ]
