"""The libyaml fast path gives exactly the values and positions of the ruamel.yaml round-trip path,
and hands everything it does not cover (errors, aliases, tags, rare notations) to that path."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from reconciler.model import source, source_fast
from reconciler.model.source import SourceDocument, load_documents
from reconciler.model.source_fast import LimitExceeded, LoadLimits, fast_documents

REPO = Path(__file__).resolve().parents[2]

TRICKY = """\
# a comment
apiVersion: reconciler/v1
kind: MixTask
metadata: {name: "quoted", labels: {a: b, 'c': "d"}}
spec:
  empty:
  nothing: ~
  nulls: [null, Null, NULL, ~, ]
  bools: [true, True, FALSE, yes, no, on, off, y, n]
  ints: [0, -1, +7, 42, 007, 0x1F, 0o17, 1_000, 0b101]
  floats: [1.5, -0.25, .5, 1e3, 1.0e-3, +2.5, .inf, -.inf]
  strings: [abc, "1", '2', -dash, .dot, 1.2.3, 1:20, 2024-13-45x, n/a, true-ish, null-ish]
  date: 2024-01-02
  block: |
    line one
    line two
  folded: >-
    folded
    text
  multi: plain scalar
    over two lines
  nested:
  - - a
    - b
  -
  - {x: 1, y: [2, 3]}
  unicode: "h\\u00e9llo"
  "key with spaces": value # trailing comment
  flow: {c: 1, d: [e]}
  flowseq: [a, [b, c], {d: e}]
...
---
---
- a
- b: c
---
just a scalar
"""


def _both(text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[SourceDocument], list[SourceDocument]]:
    path = tmp_path / "doc.yaml"
    path.write_text(text)
    fast = fast_documents(text, str(path), slow_scalar=source._ruamel_scalar)
    assert fast is not None, "the fast path should cover this document"
    with monkeypatch.context() as patch:
        patch.setattr(source_fast, "fast_documents", lambda *args, **kwargs: None)
        slow = load_documents(path).documents
    return fast, slow


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict):
        return type(b) is dict and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return type(b) is list and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("text", [TRICKY, *(p.read_text() for p in sorted((REPO / "examples").rglob("*.y*ml")))],
                         ids=lambda t: t.splitlines()[1][:30] if t else "")
def test_fast_path_matches_round_trip_values_and_positions(text: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = _both(text, tmp_path, monkeypatch)
    assert [d.index for d in fast] == [d.index for d in slow]
    for f, s in zip(fast, slow, strict=True):
        assert _same(f.data, s.data)
        assert f.source == s.source  # document start, every value and every key position


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n",  # aliases: bounded by the round-trip path's alias limits
    "a: !custom 1\n",  # tags
    "a: !!str 1\n",
    "%YAML 1.1\n---\na: yes\n",  # another YAML version's rules
    "a: 1\na: 2\n",  # duplicate key: the round-trip loader's error
    "? [a]\n: 1\n",  # a non-string key
    "1: one\n",
    "base: &b {x: 1}\nmore: {<<: *b}\n",  # merge keys
    "a: {b: , c: 1}\n",  # an empty value in a flow mapping: ruamel.yaml's mark is not in libyaml's events
    "a: [1, 2\n",  # a syntax error: reported with the round-trip loader's words
])
def test_everything_else_goes_to_the_round_trip_path(text: str) -> None:
    assert fast_documents(text, "f.yaml", slow_scalar=source._ruamel_scalar) is None


def test_syntax_errors_keep_their_message_and_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("a: 1\nb: [1, 2\n")
    with pytest.raises(Exception) as caught:
        load_documents(path)
    assert str(caught.value).startswith(f"{path}:3:1: YAML syntax error:")


def test_limits_are_enforced_on_the_fast_path() -> None:
    deep = "a:\n" + "".join("  " * i + f"- k{i}:\n" for i in range(1, 6)) + "  " * 6 + "x: 1\n"
    with pytest.raises(LimitExceeded, match="nested deeper than 4 levels"):
        fast_documents(deep, "f.yaml", LoadLimits(max_depth=4))
    many = "---\na: 1\n" * 5
    with pytest.raises(LimitExceeded, match="more than 3 YAML documents") as caught:
        fast_documents(many, "f.yaml", LoadLimits(max_documents=3))
    assert (caught.value.line, caught.value.column) == (7, 1)
    assert fast_documents(many, "f.yaml", LoadLimits(max_documents=5, max_depth=2)) is not None
