"""Text from manifests, vendors and state made safe to print in a terminal, a log or a PR comment.

Control characters (ANSI escapes, carriage returns, backspaces) and invisible format characters (the
bidi overrides and isolates of "Trojan Source", zero-width characters) can make printed text say
something other than what it holds. They are shown as `\\uXXXX` escapes instead; newlines and tabs
pass, because messages and comments are multi-line.
"""

from __future__ import annotations

import re
import unicodedata

_KEEP = frozenset("\n\t")
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})  # controls, format (bidi, zero-width), unassigned
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(text: str) -> str:
    """`text` with every control and invisible format character escaped (newline and tab kept)."""
    if text.isascii():
        return _ASCII_CONTROL.sub(lambda m: _escaped(m.group()), text)
    return "".join(_escaped(c) if c not in _KEEP and unicodedata.category(c) in _HIDDEN else c for c in text)


def one_line(text: str) -> str:
    """`printable`, with newlines and tabs escaped too: for a value inside a single line."""
    return printable(text).replace("\n", "\\n").replace("\t", "\\t")
