"""The PR picture of an Aliyun task is drawn from what will be sent, and says what Aliyun cannot honour."""

from __future__ import annotations

import re
from typing import Any

from reconciler.model.desired import DesiredResource
from reconciler.plan.planner import plan_resource
from reconciler.plan.types import Plan
from reconciler.render.markdown import render_markdown

SVGS: dict[str, str] = {}  # URL -> the SVG picture the opt-in image sink was given


def sink(stem: str, svg: str) -> str:
    url = f"https://pictures.example.com/{len(SVGS)}/{stem}.svg"
    SVGS[url] = svg
    return url


def task(panes: list[dict[str, Any]], *, vendor: str = "aliyun", canvas: tuple[int, int] = (1280, 720),
         encoding: str = "720p") -> str:
    spec = {"channel": "room", "output": {"streamUrl": "rtmp://push.example.com/live/r", "encoding": encoding},
            "layout": {"name": "pip", "canvas": {"width": canvas[0], "height": canvas[1], "background": "#000000"},
                       "panes": [{"fit": "crop", "source": "camera", "alpha": 1.0, **p} for p in panes]}}
    change = plan_resource(DesiredResource("MixTask/live", "MixTask", "live", "p", vendor, "active", spec), None, None)
    [text] = render_markdown(Plan((change,), 1, "ab" * 32, "2026-01-01T00:00:00Z"), picture=sink)
    assert "```text\nafter: pip " in text  # the text drawing, always there
    return text


def svg_of(text: str) -> str:
    [url] = re.findall(r'<img src="([^"]+)"', text)
    return SVGS[url]


def rects(text: str) -> list[str]:
    svg = svg_of(text)
    return re.findall(r'<g id="pane-\d+">\n<rect x="([^"]+)" y="([^"]+)" width="([^"]+)" height="([^"]+)"', svg)


PIP = [{"user": "host", "x": 0, "y": 0, "width": 1, "height": 1},
       {"user": "guest", "x": 0.01, "y": 0.01, "width": 0.24, "height": 0.24}]


def test_a_preset_is_drawn_with_its_documented_geometry_and_says_so() -> None:
    text = task(PIP)
    assert "*aliyun: Aliyun draws preset 3 (picture-in-picture 1): shown with its documented geometry*" in text
    small = rects(text)[1]  # x 0.00625 * 1280 = 8, width 0.2361 * 1280 = 302.21
    assert small == ("8", "4.5", "302.21", "169.99")
    assert rects(task(PIP, vendor="tencent"))[1] == ("12.8", "7.2", "307.2", "172.8")  # drawn as written


def test_what_aliyun_cannot_honour_is_said_under_the_picture() -> None:
    text = task([{**PIP[0], "alpha": 0.5}, {"user": "b", "x": 0, "y": 0, "width": 0.3, "height": 0.3}],
                canvas=(1000, 1000))
    assert "pane alpha is not sent: Aliyun MPU panes are opaque" in text
    assert "canvas 1000x1000 is not sent: Aliyun sizes the mix by output.encoding (720p, 1280x720)" in text
    assert 'viewBox="0 0 1280 720"' in svg_of(text)
    assert "after: pip 1280x720" in text  # the drawing, too, is of what Aliyun will draw
    assert "not sent" not in task([PIP[0], {"user": "b", "x": 0, "y": 0, "width": 0.3, "height": 0.3}])


def test_the_text_plan_says_what_aliyun_cannot_honour_as_the_comment_does() -> None:
    import io

    from reconciler.render.text import render_plan

    def text_plan(vendor: str) -> str:
        spec = {"channel": "room", "output": {"streamUrl": "rtmp://push.example.com/live/r", "encoding": "720p"},
                "layout": {"name": "pip", "canvas": {"width": 1000, "height": 1000, "background": "#000000"},
                           "panes": [{"fit": "crop", "source": "camera", "alpha": 0.5, **PIP[0]},
                                     {"fit": "crop", "source": "camera", "alpha": 1.0, **PIP[1]}]}}
        change = plan_resource(DesiredResource("MixTask/live", "MixTask", "live", "p", vendor, "active", spec),
                               None, None)
        stream = io.StringIO()
        render_plan(Plan((change,), 1, "ab" * 32, "2026-01-01T00:00:00Z"), stream)
        return stream.getvalue()

    out = text_plan("aliyun")
    for note in ("aliyun: Aliyun draws preset 3 (picture-in-picture 1): shown with its documented geometry",
                 "aliyun: pane alpha is not sent: Aliyun MPU panes are opaque",
                 "aliyun: canvas 1000x1000 is not sent: Aliyun sizes the mix by output.encoding (720p, 1280x720)"):
        assert f"      {note}" in out
    assert "not sent" not in text_plan("tencent")
