"""`reconciler layout preview NAME PATHS... -o out.svg|out.png`: draw one Layout of the manifests.

With `--provider P` the picture is what P's vendor will render (e.g. a matching preset's documented
geometry), as the pull-request picture draws it, and what the vendor cannot honour is printed.

SVG needs nothing; PNG converts the same SVG with cairosvg (`pip install 'rtc-reconciler[png]'`),
which is optional because it needs the system cairo library.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from reconciler.errors import ReconcilerError
from reconciler.model.manifest import ManifestSet, load_manifests
from reconciler.model.registry import RENDITIONS, as_rendered
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
@click.option("--provider", "provider", metavar="PROVIDER", default=None,
              help="Draw what this Provider's vendor will render, and print what it cannot honour.")
def preview_command(name: str, paths: tuple[Path, ...], output: Path, width: int, provider: str | None) -> int:
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
    layout: Mapping[str, Any] = {"name": name, **manifests.layout(name).normalised()}
    notes: tuple[str, ...] = ()
    if provider is not None:
        layout, notes = _as_vendor_renders(manifests, layout, provider)
    svg = layout_svg(layout, display_width=width)
    output.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".png":
        output.write_bytes(svg_to_png(svg))
    else:
        output.write_text(svg, encoding="utf-8")
    click.echo(f"wrote {output}")
    for note in notes:
        click.echo(f"note: {note}")
    return 0


def _as_vendor_renders(manifests: ManifestSet, layout: Mapping[str, Any],
                       provider: str) -> tuple[Mapping[str, Any], tuple[str, ...]]:
    """The layout as `provider`'s vendor renders it: for the first job of that provider that uses it
    (its output decides the mix's shape), else for a job with that layout alone."""
    if manifests.get("Provider", provider) is None:
        names = [r.name for r in manifests.of_kind("Provider")]
        guesses = difflib.get_close_matches(provider, names, n=1, cutoff=0.6)
        hint = f"; did you mean {guesses[0]!r}?" if guesses else (f"; providers: {', '.join(names)}" if names else "")
        raise ReconcilerError(f"--provider {provider}: no Provider {provider!r} in the manifests{hint}")
    vendor = manifests.provider(provider).vendor
    kinds = sorted(kind for v, kind in RENDITIONS if v == vendor)
    if not kinds:
        return layout, (f"{vendor} renders the Layout as written",)
    for job in manifests.desired():
        if job.provider == provider and job.kind in kinds and (job.spec.get("layout") or {}).get("name") == layout["name"]:
            rendered, notes = as_rendered(vendor, job.kind, job.spec)
            return rendered, (f"drawn as {vendor} renders {job.address}", *(f"{vendor}: {n}" for n in notes))
    rendered, notes = as_rendered(vendor, kinds[0], {"layout": layout})
    return rendered, (f"no {vendor} job uses {layout['name']}: drawn with the vendor's defaults",
                      *(f"{vendor}: {n}" for n in notes))
