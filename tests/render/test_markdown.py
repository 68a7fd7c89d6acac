"""The PR comment: summary table, a section per resource, layout pictures, size split, no secrets."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from conftest import REPO

from reconciler.model import load_manifests
from reconciler.model.desired import DesiredResource
from reconciler.plan import Action, make_plan, plan_to_dict
from reconciler.plan.planner import plan_resource
from reconciler.plan.types import Plan
from reconciler.records import Observation, ResourceRecord
from reconciler.render.markdown import COMMENT_LIMIT, render_markdown
from reconciler.render.text import render_plan
from tests.render.github_html import code_blocks, github_html


def layout(users: list[str | None], name: str = "grid") -> dict[str, Any]:
    width = 1 / len(users)
    return {"name": name, "canvas": {"width": 1280, "height": 720, "background": "#000000"},
            "panes": [{"user": u, "x": round(i * width, 6), "y": 0.0, "width": round(width, 6), "height": 1.0,
                       "fit": "crop", "source": "camera", "alpha": 1.0} for i, u in enumerate(users)]}


def spec(users: list[str | None], n: int = 0) -> dict[str, Any]:
    return {"channel": f"room{n}", "layout": layout(users),
            "output": {"streamUrl": f"rtmp://push.example.com/live/{n}", "encoding": "720p"}}


def desired(name: str, body: dict[str, Any]) -> DesiredResource:
    return DesiredResource(f"MixTask/{name}", "MixTask", name, "ali", "aliyun", "active", body)


def record(name: str, body: dict[str, Any]) -> ResourceRecord:
    return ResourceRecord(f"MixTask/{name}", "MixTask", name, "ali", "aliyun", {"TaskId": f"t-{name}"}, 1, body,
                          "active")


def pictures(text: str) -> list[str]:
    """Every layout drawing as GitHub shows it (rendered and sanitised like a real comment)."""
    return [block for block in code_blocks(github_html(text)) if "after: " in block]


def one_plan(*changes: Any) -> Plan:
    return Plan(changes=tuple(changes), state_serial=4, manifest_fingerprint="ab" * 32, created_at="2026-01-01T00:00:00Z")


def test_layout_update_shows_the_layout_before_and_after() -> None:
    change = plan_resource(desired("live", spec(["host", "guest"])), record("live", spec(["host", "<b>x|y</b>"])),
                           Observation("active"))
    assert change.action is Action.UPDATE
    [text] = render_markdown(one_plan(change))
    assert text.startswith("### Reconciler plan\n\n**Plan:** 0 to start, 1 to update, 0 to stop, 0 to resume, "
                           "0 unchanged\n")
    assert "| `~` | <code>MixTask/live</code> | aliyun · ali | update-layout | layout changed |" in text
    assert "<details><summary><code>~</code> <b>MixTask/live</b>: update-layout</summary>" in text
    assert ("| <code>layout</code> | <code>\"grid\"</code> | <code>\"grid\"</code>: panes[1].user "
            "(drawn below) |") in text
    [drawing] = pictures(text)
    lines = drawing.splitlines()
    assert lines == [
        "before: grid 1280x720                after: grid 1280x720",
        "+---------------+---------------+    +---------------+---------------+",
        "|A host         |B <b>x|y</b>   |    |A host         |B guest        |",
        *["|               |               |    |               |               |"] * 6,
        "+---------------+---------------+    +---------------+---------------+",
        "A host 0%,0% 50%x100%                A host 0%,0% 50%x100%",
        "B <b>x|y</b> 50%,0% 50%x100%         B guest 50%,0% 50%x100%",
    ]
    assert text.count("<details>") == text.count("</details>") == 1
    assert "data:" not in text and "<img" not in text and "<svg" not in text


def test_only_layout_changes_get_pictures() -> None:
    start = plan_resource(desired("new", spec(["a"])), None, None)
    output_only = plan_resource(desired("out", {**spec(["a"]), "output": {"streamUrl": "rtmp://h/x"}}),
                                record("out", spec(["a"])), Observation("active"))
    stop = plan_resource(DesiredResource("MixTask/old", "MixTask", "old", "ali", "aliyun", "inactive", spec(["a"])),
                         record("old", spec(["a"])), Observation("active"))
    [text] = render_markdown(one_plan(start, output_only, stop))
    [drawing] = pictures(text)  # the start only, and no before exists
    assert drawing.startswith("after: grid 1280x720\n") and "before" not in drawing
    assert (start.action, output_only.action, stop.action) == (Action.CREATE, Action.REPLACE, Action.STOP)
    assert text.count("<details>") == 3


def test_unknown_live_layout_says_so_instead_of_a_picture() -> None:
    imported = record("adopted", {k: v for k, v in spec(["a"]).items() if k != "layout"})
    change = plan_resource(desired("adopted", spec(["a"])), imported, Observation("active"))
    [text] = render_markdown(one_plan(change))
    [drawing] = pictures(text)
    assert drawing.startswith("before: not known                    after: grid 1280x720\n")
    assert "(the vendor cannot report" in drawing


def test_a_large_plan_is_split_into_numbered_parts_under_the_limit() -> None:
    names = [f"task-{i:03d}" for i in range(120)]
    plan = make_plan([desired(n, spec([f"host{n}", "guest", None], i)) for i, n in enumerate(names)], {}, {},
                     state_serial=0, manifest_fingerprint="f", created_at="t")
    parts = render_markdown(plan)
    assert len(parts) > 1
    assert all(len(p) <= COMMENT_LIMIT for p in parts)
    assert [p.splitlines()[0] for p in parts] == [
        f"### Reconciler plan (part {i} of {len(parts)})" for i in range(1, len(parts) + 1)]
    whole = "".join(parts)
    for name in names:  # each resource exactly once in the table and once as a section
        assert whole.count(f"| <code>MixTask/{name}</code> |") == 1
        assert whole.count(f"<b>MixTask/{name}</b>") == 1
    assert len(pictures(whole)) == 120 and all(len(pictures(p)) == p.count("```text") for p in parts)
    for part in parts:  # never split inside a section; a continued table repeats its header
        assert part.count("<details>") == part.count("</details>")
        rows = [i for i, line in enumerate(part.splitlines()) if line.startswith("| `+` |")]
        if rows:
            assert part.splitlines()[rows[0] - 2] == "| | Resource | Provider | Action | Why |"
    small = render_markdown(plan, limit=4_000)
    assert all(len(p) <= 4_000 for p in small)
    assert "*Layout pictures left out to keep this comment under the size limit.*" not in "".join(small)


def test_a_section_too_big_for_one_comment_drops_its_pictures_then_rows() -> None:
    many = [f"user-with-a-rather-long-name-{i}" for i in range(15)]
    change = plan_resource(desired("wide", spec(many)), record("wide", spec(list(reversed(many)))),
                           Observation("active"))
    parts = render_markdown(one_plan(change), limit=1_500)
    assert all(len(p) <= 1_500 for p in parts)
    whole = "".join(parts)
    assert pictures(whole) == []
    assert "*Layout pictures left out to keep this comment under the size limit.*" in whole
    assert re.search(r"\| \.\.\. \| \d+ more field\(s\) \| see `reconciler show plan.json` \|", whole)


def test_no_secret_value_reaches_any_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {"ANYRTC_STORAGE_ACCESS_KEY": "AKIAEXAMPLESTORAGE42", "ANYRTC_STORAGE_SECRET_KEY": "s3cr3t-storage-value",
              "ANYRTC_CUSTOMER_SECRET": "customer-secret-value", "ALIYUN_ACCESS_KEY_SECRET": "aliyun-secret-value"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    manifests = load_manifests([REPO / "examples" / "anyrtc", REPO / "examples" / "aliyun"])
    plan = make_plan(manifests.desired(), {}, {}, state_serial=0, manifest_fingerprint=manifests.fingerprint,
                     created_at="t")
    text = io.StringIO()
    render_plan(plan, text)
    outputs = [text.getvalue(), json.dumps(plan_to_dict(plan)), *render_markdown(plan)]
    for output in outputs:
        for value in values.values():
            assert value not in output
    assert '{"env": "ANYRTC_STORAGE_SECRET_KEY"}' in outputs[1]  # the reference is what the plan holds


def test_empty_plan_says_there_is_nothing_to_do() -> None:
    [text] = render_markdown(one_plan())
    assert "No changes. The vendors match the manifests." in text
    assert "<details>" not in text
