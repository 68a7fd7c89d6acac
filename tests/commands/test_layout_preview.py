"""`reconciler layout preview`: one Layout of the manifests as an SVG or PNG file."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from conftest import REPO

from reconciler.model import load_manifests
from reconciler.render.svg import layout_svg
from tests.cli.helpers import run

EXAMPLES = str(REPO / "examples" / "aliyun")


def test_svg_preview_is_the_layout_drawn_to_scale(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "layout", "preview", "speaker-plus-3", EXAMPLES, "-o", "pics/speaker.svg")
    assert (code, out, err) == (0, "wrote pics/speaker.svg\n", "")
    layout = load_manifests([EXAMPLES]).layout("speaker-plus-3").normalised()
    assert Path("pics/speaker.svg").read_text() == layout_svg({"name": "speaker-plus-3", **layout}, display_width=640)


def test_unknown_layout_and_wrong_suffix_are_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "layout", "preview", "speaker-plus3", EXAMPLES, "-o", "x.svg")
    assert (code, err) == (1, "error: no Layout 'speaker-plus3' in the manifests; did you mean 'speaker-plus-3'?\n")
    code, _, err = run(capsys, "layout", "preview", "speaker-plus-3", EXAMPLES, "-o", "x.jpg")
    assert code == 1 and "-o x.jpg: the file must end in .svg or .png" in err
    assert not Path("x.svg").exists() and not Path("x.jpg").exists()


def test_png_without_cairosvg_says_how_to_get_it(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cairosvg", None)  # as if it were not installed
    code, _, err = run(capsys, "layout", "preview", "grid-2x2", EXAMPLES, "-o", "grid.png")
    assert code == 1
    assert err.startswith("error: PNG output needs cairosvg and the cairo library: pip install "
                          "'rtc-reconciler[png]' (or write an .svg file, which needs neither)")
    assert not Path("grid.png").exists()


@pytest.mark.skipif(importlib.util.find_spec("cairosvg") is None, reason="the optional [png] extra is not installed")
def test_png_preview_with_cairosvg(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "layout", "preview", "grid-2x2", EXAMPLES, "-o", "grid.png", "--width", "320")
    assert code == 0
    data = Path("grid.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == 320 and int.from_bytes(data[20:24], "big") == 180


VENDOR_MANIFESTS = """\
apiVersion: reconciler/v1
kind: Provider
metadata: {name: ali}
spec:
  vendor: aliyun
  appId: app
  credentials: {accessKeyId: {env: ALIYUN_ID}, accessKeySecret: {env: ALIYUN_SECRET}}
---
apiVersion: reconciler/v1
kind: Provider
metadata: {name: tc}
spec:
  vendor: tencent
  appId: "1400000001"
  admin: administrator
  credentials: {key: {env: TENCENT_KEY}}
---
apiVersion: reconciler/v1
kind: Layout
metadata: {name: pip}
spec:
  canvas: {width: 1000, height: 1000, background: "#000000"}
  panes:
    - {user: host, x: 0, y: 0, width: 1, height: 1, alpha: 0.5}
    - {user: guest, x: 0.01, y: 0.01, width: 0.24, height: 0.24}
---
apiVersion: reconciler/v1
kind: MixTask
metadata: {name: live}
spec:
  provider: ali
  channel: room
  layout: pip
  output: {streamUrl: "rtmp://push.example.com/live/r", encoding: 720p}
"""


def _rects(svg: str) -> list[tuple[str, ...]]:
    import re
    return re.findall(r'<g id="pane-\d+">\n<rect x="([^"]+)" y="([^"]+)" width="([^"]+)" height="([^"]+)"', svg)


def test_provider_preview_draws_what_the_vendor_renders_and_says_what_it_cannot_honour(
        capsys: pytest.CaptureFixture[str]) -> None:
    Path("m.yaml").write_text(VENDOR_MANIFESTS)
    code, out, err = run(capsys, "layout", "preview", "pip", "m.yaml", "-o", "ali.svg", "--provider", "ali")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "wrote ali.svg",
        "note: drawn as aliyun renders MixTask/live",
        "note: aliyun: Aliyun draws preset 3 (picture-in-picture 1): shown with its documented geometry",
        "note: aliyun: pane alpha is not sent: Aliyun MPU panes are opaque",
        "note: aliyun: canvas 1000x1000 is not sent: Aliyun sizes the mix by output.encoding (720p, 1280x720), "
        "so the panes stretch to that shape"]
    svg = Path("ali.svg").read_text()
    assert 'viewBox="0 0 1280 720"' in svg
    assert _rects(svg)[1] == ("8", "4.5", "302.21", "169.99")  # preset 3's documented small pane, not 0.01/0.24
    # without --provider, and for a vendor that draws the Layout as written: the manifest's own geometry
    code, out, _ = run(capsys, "layout", "preview", "pip", "m.yaml", "-o", "plain.svg")
    assert (code, out) == (0, "wrote plain.svg\n")
    plain = Path("plain.svg").read_text()
    assert 'viewBox="0 0 1000 1000"' in plain and plain != svg
    code, out, _ = run(capsys, "layout", "preview", "pip", "m.yaml", "-o", "tc.svg", "--provider", "tc")
    assert (code, out) == (0, "wrote tc.svg\nnote: tencent renders the Layout as written\n")
    assert Path("tc.svg").read_text() == plain


def test_unknown_provider_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    Path("m.yaml").write_text(VENDOR_MANIFESTS)
    code, _, err = run(capsys, "layout", "preview", "pip", "m.yaml", "-o", "x.svg", "--provider", "al")
    assert (code, err) == (1, "error: --provider al: no Provider 'al' in the manifests; did you mean 'ali'?\n")
    assert not Path("x.svg").exists()
