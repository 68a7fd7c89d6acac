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
