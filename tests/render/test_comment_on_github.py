"""The PR comment as GitHub shows it: rendered by cmark-gfm and sanitised like GitHub does, every layout
change is still drawn before and after, a 40-task plan fits one comment, and names cannot break out."""

from __future__ import annotations

from typing import Any

from reconciler.plan import Action, make_plan
from reconciler.plan.planner import plan_resource
from reconciler.records import Observation
from reconciler.render.markdown import COMMENT_LIMIT, render_markdown
from tests.render.github_html import code_blocks, github_html, image_sources
from tests.render.test_markdown import desired, layout, one_plan, record, spec


def drawings(markdown: str) -> list[str]:
    return [block for block in code_blocks(github_html(markdown)) if "after: " in block]


def with_layout(users: list[str | None], name: str, n: int = 0) -> dict[str, Any]:
    return {**spec(users, n), "layout": layout(users, name)}


def test_the_sanitiser_really_strips_what_github_strips() -> None:
    """The allowlist can fail a test: data: images and inline SVG vanish, http(s) and relative stay."""
    rendered = github_html('<img src="data:image/svg+xml;base64,PHN2Zz4=" alt="a"> <svg><rect/></svg> '
                           '<img src="https://example.com/a.png"> <img src="pics/b.png"> <p style="x">y</p>')
    assert image_sources(rendered) == ["https://example.com/a.png", "pics/b.png"]
    assert "data:" not in rendered and "<svg" not in rendered and "style" not in rendered


def test_a_40_task_plan_of_layout_changes_fits_one_comment_and_github_shows_every_change() -> None:
    names = [f"room-{i:02d}" for i in range(40)]
    changes = [plan_resource(desired(n, with_layout([f"host{i}", "guest", None], "speaker-plus-3", i)),
                             record(n, with_layout([f"host{i}", "guest"], "grid-2x2", i)), Observation("active"))
               for i, n in enumerate(names)]
    assert {c.action for c in changes} == {Action.UPDATE}
    [comment] = render_markdown(one_plan(*changes))
    assert len(comment) <= COMMENT_LIMIT
    assert "data:" not in comment and "<svg" not in comment and "<img" not in comment
    shown = drawings(comment)
    assert len(shown) == 40
    for i, drawing in enumerate(shown):  # sorted by address, as the plan lists them
        lines = drawing.splitlines()
        assert lines[0].startswith("before: grid-2x2 1280x720") and "after: speaker-plus-3 1280x720" in lines[0]
        assert f"|A host{i}" in lines[2] and "|B guest" in lines[2] and "|C (next)" in lines[2]
        assert f"A host{i} 0%,0% 50%x100%" in drawing and f"A host{i} 0%,0% 33.3%x100%" in drawing


def test_a_40_task_start_plan_fits_one_comment() -> None:
    plan = make_plan([desired(f"t{i:02d}", spec([f"user-{i}", "guest", None], i)) for i in range(40)], {}, {},
                     state_serial=0, manifest_fingerprint="f", created_at="t")
    [comment] = render_markdown(plan)
    assert len(comment) <= COMMENT_LIMIT
    assert len(drawings(comment)) == 40


def test_hostile_user_names_cannot_leave_the_drawing() -> None:
    users = ["```", "</pre><img src=x onerror=alert(1)>", "~~~\n# title", "名字"]
    change = plan_resource(desired("evil", spec(users)), record("evil", spec(["a"])), Observation("active"))
    [comment] = render_markdown(one_plan(change))
    rendered = github_html(comment)
    [drawing] = drawings(comment)
    assert "`" not in drawing and "<h1>" not in rendered and "<img" not in rendered
    assert "B &lt;/pre&gt;&lt;img" in rendered  # shown as text inside the code block
    assert drawing.splitlines()[-1].lstrip().startswith("D ?? ")  # wide characters are replaced, keeping the columns
    widths = {len(line) for line in drawing.splitlines() if line[:1] in "+|"}
    assert len(widths) == 1


def test_opt_in_image_links_survive_githubs_sanitiser_next_to_the_drawing() -> None:
    change = plan_resource(desired("live", with_layout(["a", "b"], "two")), record("live", with_layout(["a"], "one")),
                           Observation("active"))
    urls: list[str] = []

    def sink(stem: str, svg: str) -> str:
        assert svg.startswith("<svg ")
        urls.append(f"https://raw.githubusercontent.com/o/r/{'0' * 40}/pr-1/{stem}.png")
        return urls[-1]

    [comment] = render_markdown(one_plan(change), picture=sink)
    rendered = github_html(comment)
    assert image_sources(rendered) == urls[::-1] and [u.rsplit("/", 1)[1] for u in urls] == [
        "MixTask-live-after.png", "MixTask-live-before.png"]
    assert len(drawings(comment)) == 1
