"""Reading manifest files into plain data while remembering where every node came from.

ruamel.yaml's round-trip loader keeps line/column for each mapping key, value and sequence item;
we copy that into a `SourceMap` keyed by field path so any later error (pydantic, cross-reference,
vendor rule) can point at `file:line:column`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from reconciler.errors import ManifestError

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class SourceMap:
    """Positions of the values (and of the keys) of one document, by field path."""

    file: str
    document: Position
    values: dict[FieldPath, Position] = field(default_factory=dict)
    keys: dict[FieldPath, Position] = field(default_factory=dict)

    def locate(self, path: FieldPath, *, key: bool = False) -> Position:
        """The nearest known position for `path`: the node itself, else its closest ancestor."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.document

    def error(self, path: FieldPath, message: str, *, resource: str = "", key: bool = False) -> ManifestError:
        pos = self.locate(path, key=key)
        return ManifestError(self.file, pos.line, pos.column, message, resource, format_path(path))


@dataclass(frozen=True)
class SourceDocument:
    """One YAML document of one file, as plain Python data plus its source map."""

    data: Any
    source: SourceMap
    index: int  # position of the document in its file, from 0


def format_path(path: FieldPath) -> str:
    """`("spec", "panes", 2, "x")` -> `spec.panes[2].x`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _plain(node: Any, path: FieldPath, smap: SourceMap) -> Any:
    if isinstance(node, CommentedMap):
        result: dict[str, Any] = {}
        for key in node:
            child = (*path, str(key))
            kline, kcol = node.lc.key(key)
            smap.keys[child] = Position(kline + 1, kcol + 1)
            vline, vcol = node.lc.value(key)
            smap.values[child] = Position(vline + 1, vcol + 1)
            result[str(key)] = _plain(node[key], child, smap)
        return result
    if isinstance(node, CommentedSeq):
        items = []
        for i, item in enumerate(node):
            child = (*path, i)
            line, col = node.lc.item(i)
            smap.values[child] = Position(line + 1, col + 1)
            items.append(_plain(item, child, smap))
        return items
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def load_documents(path: Path, display_name: str | None = None) -> list[SourceDocument]:
    """Every non-empty document of one YAML file. Raises ManifestError on a syntax error."""
    name = display_name or str(path)
    yaml = YAML(typ="rt")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _as_errors([ManifestError(name, 1, 1, f"cannot read file: {exc.__class__.__name__}")]) from exc
    try:
        raw_docs = list(yaml.load_all(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        col = mark.column + 1 if mark else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise _as_errors([ManifestError(name, line, col, f"YAML syntax error: {problem}")]) from exc
    documents = []
    for index, raw in enumerate(raw_docs):
        if raw is None:
            continue
        if isinstance(raw, (CommentedMap, CommentedSeq)):
            start = Position(raw.lc.line + 1, raw.lc.col + 1)
        else:
            start = Position(1, 1)
        smap = SourceMap(name, start)
        documents.append(SourceDocument(_plain(raw, (), smap), smap, index))
    return documents


def _as_errors(errors: list[ManifestError]) -> Exception:
    from reconciler.errors import ManifestErrors

    return ManifestErrors(errors)


# `apiVersion: reconciler/...` in block or flow style (`{"apiVersion": "reconciler/v1", ...}`)
MANIFEST_MARK = re.compile(rb"""(?:^|[{,\s])["']?apiVersion["']?[ \t]*:[ \t]*["']?reconciler/""", re.IGNORECASE)


def is_manifest_file(path: Path) -> bool:
    """Does the file declare at least one document with `apiVersion: reconciler/...`?

    Unreadable files count as manifests, so loading them reports the problem instead of hiding it.
    """
    try:
        return MANIFEST_MARK.search(path.read_bytes()) is not None
    except OSError:
        return True


def find_manifest_files(paths: list[Path], skipped: list[Path] | None = None) -> list[Path]:
    """Every `*.yaml` / `*.yml` manifest under the given paths, in a stable order.

    A file named on the command line is always read. In a directory, YAML files that are not
    manifests (no `apiVersion: reconciler/...`, e.g. CI workflows kept beside them) are left out and
    appended to `skipped`, so the caller can say so.
    """
    found: list[Path] = []
    for root in paths:
        if root.is_file():
            found.append(root)
        elif root.is_dir():
            for candidate in sorted(root.rglob("*")):
                if candidate.is_file() and candidate.suffix in (".yaml", ".yml"):
                    if not any(part.startswith(".") for part in candidate.relative_to(root).parts):
                        if is_manifest_file(candidate):
                            found.append(candidate)
                        elif skipped is not None:
                            skipped.append(candidate)
    return found
