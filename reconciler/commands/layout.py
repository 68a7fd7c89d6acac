"""`reconciler layout preview NAME PATHS... -o out.svg|out.png`: draw one Layout of the manifests.

SVG needs nothing; PNG converts the same SVG with cairosvg (`pip install 'rtc-reconciler[png]'`),
which is optional because it needs the system cairo library.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import click

from reconciler.errors import ReconcilerError
from reconciler.model.manifest import load_manifests
from reconciler.render.svg import layout_svg

PNG_HINT = ("PNG output needs cairosvg and the cairo library: pip install 'rtc-reconciler[png]' "
            "(or write an .svg file, which needs neither)")


def svg_to_png(svg: str) -> bytes:
    try:
        import cairosvg  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except (ImportError, OSError) as exc:  # OSError: the package is there but libcairo is not
        raise ReconcilerError(f"{PNG_HINT}: {exc}") from None
    png: bytes = cairosvg.svg2png(bytestring=svg.encode("utf-8"))
    return png


@click.group("layout")
def layout_group() -> None:
    """Work with Layout resources."""


@layout_group.command("preview")
@click.argument("name")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the picture: a .svg or .png file.")
@click.option("--width", type=click.IntRange(16, 4096), default=640, show_default=True,
              help="Width of the picture in pixels (the height follows the canvas).")
def preview_command(name: str, paths: tuple[Path, ...], output: Path, width: int) -> int:
    """Draw Layout NAME of the manifests under PATHS: the canvas to scale, panes labelled with users."""
    suffix = output.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise click.UsageError(f"-o {output}: the file must end in .svg or .png")
    manifests = load_manifests(paths)
    if manifests.get("Layout", name) is None:
        names = [r.name for r in manifests.of_kind("Layout")]
        guesses = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        hint = f"; did you mean {guesses[0]!r}?" if guesses else (f"; layouts: {', '.join(names)}" if names else "")
        raise ReconcilerError(f"no Layout {name!r} in the manifests{hint}")
    svg = layout_svg({"name": name, **manifests.layout(name).normalised()}, display_width=width)
    output.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".png":
        output.write_bytes(svg_to_png(svg))
    else:
        output.write_text(svg, encoding="utf-8")
    click.echo(f"wrote {output}")
    return 0
