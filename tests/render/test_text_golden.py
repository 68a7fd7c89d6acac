"""The text plan byte for byte, plain and in colour, for every kind of line a plan can hold.

The expected bytes are the ones the renderer wrote when it printed markup line by line; the plan is
now printed as styled segments in one print, and must not differ by a byte (colour codes included).
"""

from __future__ import annotations

import io

import pytest

from reconciler.plan.types import Action, Change, FieldChange, Plan
from reconciler.render.text import render_plan

LAYOUT = {"name": "pip", "canvas": {"width": 1000, "height": 1000},
          "panes": [{"user": "host", "x": 0, "y": 0, "width": 1, "height": 1, "alpha": 0.5},
                    {"user": "guest", "x": 0.7, "y": 0.7, "width": 0.25, "height": 0.25}]}


def change(name: str, action: Action, **extra: object) -> Change:
    fields = {"address": f"MixTask/{name}", "kind": "MixTask", "name": name, "provider": "ali-prod",
              "vendor": "aliyun", "action": action, "before": None, "after": None, **extra}
    return Change(**fields)  # type: ignore[arg-type]


PLAN = Plan(
    changes=(
        change("live", Action.CREATE, after={"channel": "room [1]", "layout": LAYOUT,
                                             "output": {"streamUrl": "rtmp://h/a", "encoding": "720p"}},
               reasons=("new in the manifests",), verb="start"),
        change("panel", Action.UPDATE, before={"layout": {**LAYOUT, "name": "solo"}}, after={"layout": LAYOUT},
               fields=(FieldChange("layout.name", "solo", "pip"), FieldChange("output.encoding", "720p", "1080p")),
               reasons=("layout changed", "drift: the vendor reports another layout"), drift=True,
               verb="update-layout"),
        change("old", Action.STOP, before={"channel": "old"}, reasons=("the manifest asks for it to stop",),
               verb="stop"),
        change("moved", Action.REPLACE, before={"channel": "a"}, after={"channel": "b"},
               fields=(FieldChange("channel", "a", "b"),), reasons=("channel cannot change in place",)),
        change("gone", Action.NOOP, before={"channel": "g"}, orphan=True, reasons=("not in the manifests",)),
        change("dark", Action.NOOP, before={"channel": "d"}, after={"channel": "d"},
               unverified="the vendor did not answer: ConnectTimeout"),
        change("same", Action.NOOP, before={"channel": "s"}, after={"channel": "s"}),
        Change(address="RecordingSession/r", kind="RecordingSession", name="r", provider="zego-prod", vendor="zego",
               action=Action.RESUME, before={"roomId": "r"}, after={"roomId": "r"}, reasons=("paused -> active",),
               verb="resume"),
    ),
    state_serial=7, manifest_fingerprint="f" * 64, created_at="2026-01-01T00:00:00Z",
    warnings=("MixTask/x: recovered [adopted] from the vendor", "ends with a backslash: C:\\logs"),
)

ALPHA = "pane alpha is not sent: Aliyun MPU panes are opaque"
CANVAS = ("canvas 1000x1000 is not sent: Aliyun sizes the mix by output.encoding (720p, 1280x720), so the panes "
          "stretch to that shape")
SUMMARY = ("1 to start, 1 to update, 1 to stop, 1 to resume, 1 unchanged, 1 to replace, 1 unverifiable: the vendor "
           "cannot report them or did not answer, 1 orphaned (apply --prune to remove)")
# {B}old, {D}im, {G}reen, {Y}ellow, {R}ed, {M}agenta, {C}yan, bold red {BR}, and {E}nd of a style
COLOUR_LINES = [
    "{Y}note:{E} MixTask/x: recovered [adopted] from the vendor",
    "{Y}note:{E} ends with a backslash: C:\\logs",
    "{B}aliyun · Provider/ali-prod{E}",
    "  {G}+ MixTask/live{E}  start",
    "      {D}new in the manifests{E}",
    '      channel: "room [1]"',
    "      layout: pip (2 panes, 1000x1000)",
    '      output.encoding: "720p"',
    '      output.streamUrl: "rtmp://h/a"',
    "      {Y}aliyun:{E} " + ALPHA,
    "      {Y}aliyun:{E} " + CANVAS,
    "  {Y}~ MixTask/panel{E}  update-layout {BR}(drift){E}",
    "      {D}layout changed{E}",
    "      {D}drift: the vendor reports another layout{E}",
    '      layout.name: "solo" → "pip"',
    '      output.encoding: "720p" → "1080p"',
    "      {Y}aliyun:{E} " + ALPHA,
    "      {Y}aliyun:{E} " + CANVAS,
    "  {R}- MixTask/old{E}  stop",
    "      {D}the manifest asks for it to stop{E}",
    "  {M}-/+ MixTask/moved{E}  replace",
    "      {D}channel cannot change in place{E}",
    '      channel: "a" → "b"',
    "  {D}= MixTask/gone{E}  orphan",
    "      {D}not in the manifests{E}",
    "  {Y}? MixTask/dark{E}  unverifiable",
    "      {D}not observed: the vendor did not answer: ConnectTimeout{E}",
    "  {D}= MixTask/same{E}  unchanged",  # only with verbose
    "{B}zego · Provider/zego-prod{E}",
    "  {C}> RecordingSession/r{E}  resume",
    "      {D}paused -> active{E}",
    "{B}Plan:{E} " + SUMMARY,
]
CODES = {"B": "\x1b[1m", "D": "\x1b[2m", "G": "\x1b[32m", "Y": "\x1b[33m", "R": "\x1b[31m", "M": "\x1b[35m",
         "C": "\x1b[36m", "BR": "\x1b[1;31m", "E": "\x1b[0m"}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def expected(*, colour: bool, verbose: bool) -> str:
    lines = [line for line in COLOUR_LINES if verbose or "MixTask/same" not in line]
    codes = CODES if colour else dict.fromkeys(CODES, "")
    return "".join(line.format(**codes) + "\n" for line in lines)


@pytest.mark.parametrize("verbose", [False, True])
def test_the_plain_text_plan_is_pinned_byte_for_byte(verbose: bool) -> None:
    out = io.StringIO()
    render_plan(PLAN, out, verbose=verbose)
    assert out.getvalue() == expected(colour=False, verbose=verbose)


@pytest.mark.parametrize("verbose", [False, True])
def test_the_colour_plan_on_a_terminal_is_pinned_byte_for_byte(verbose: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "COLORTERM", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    screen = Terminal()
    render_plan(PLAN, screen, verbose=verbose)
    assert screen.getvalue() == expected(colour=True, verbose=verbose)


def test_no_color_keeps_bold_and_dim_but_drops_the_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    screen = Terminal()
    render_plan(PLAN, screen)
    lines = screen.getvalue().splitlines()
    assert lines[2] == "\x1b[1maliyun · Provider/ali-prod\x1b[0m" and lines[3] == "  + MixTask/live  start"
    assert lines[4] == "      \x1b[2mnew in the manifests\x1b[0m"
    assert lines[11] == "  ~ MixTask/panel  update-layout \x1b[1m(drift)\x1b[0m"


@pytest.mark.parametrize("value", ["a\\", "C:\\path\\", "\\", "x\\[y]", "[bold]x[/]", "[/]"])
def test_data_with_brackets_and_backslashes_is_shown_as_it_is(value: str) -> None:
    plan = Plan(changes=(change("m", Action.UPDATE, before={"channel": "a"}, after={"channel": value},
                                fields=(FieldChange("channel", "a", value),), reasons=(value,)),),
                state_serial=1, manifest_fingerprint="f", created_at="now", warnings=(value,))
    out = io.StringIO()
    render_plan(plan, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"note: {value}" and lines[3] == f"      {value}"
