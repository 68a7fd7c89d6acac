"""Styled lines printed with one `Console.print`: what the plan and the apply reporter write.

Why not markup: a `print` of markup per line costs rich a markup parse, a terminal check, line
splitting and a flush each time (about 1 ms a change for the 8 lines of a planned start). Here each
part becomes one segment, styled as the same markup would style it, so the bytes written (colour
codes included) are the same, and a whole plan is a single print. Data is never parsed as markup, so
it needs no markup escaping; callers pass it through `safe_text.one_line`, which shows control and
bidi characters escaped.
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.style import Style

Part = str | tuple[str, str]  # fixed or already `one_line`d text, or (text, style name)


class StyledLines:
    """Lines of parts, each plain or with a rich style name (as "[green]...[/]" would give it)."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, str | None]] = []

    def line(self, *parts: Part) -> StyledLines:
        for part in parts:
            self.parts.append(part if isinstance(part, tuple) else (part, None))
        self.parts.append(("\n", None))
        return self

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        styles: dict[str, Style] = {}
        for text, name in self.parts:
            if name is None:
                yield Segment(text)
            else:
                style = styles.get(name)
                if style is None:
                    style = styles[name] = console.get_style(name)
                yield Segment(text, style)
