"""Reading manifest files into plain data while remembering where every node came from.

ruamel.yaml's round-trip loader keeps line/column for each mapping key, value and sequence item;
we copy that into a `SourceMap` keyed by field path so any later error (pydantic, cross-reference,
vendor rule) can point at `file:line:column`. Plain documents take a faster path to the same values
and positions (source_fast.py: libyaml's C parser); everything else comes through ruamel.yaml.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.errors import ManifestError
from reconciler.model.yaml_limits import MAX_DEPTH, MAX_DOCUMENTS, MAX_FILE_BYTES, check_limits

if TYPE_CHECKING:
    from ruamel.yaml.comments import CommentedMap

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


def _where(node: CommentedMap, part: str, key: Any) -> tuple[int, int]:
    """0-based line and column of a key or value; a key merged in with `<<: *anchor` has none of its
    own, so it is placed at its mapping."""
    try:
        found = node.lc.key(key) if part == "key" else node.lc.value(key)
    except (KeyError, TypeError, IndexError):
        found = None
    return (int(found[0]), int(found[1])) if found else (int(node.lc.line or 0), int(node.lc.col or 0))


def _plain(node: Any, path: FieldPath, smap: SourceMap) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq  # only on the slow path: ruamel is a slow import

    if isinstance(node, CommentedMap):
        result: dict[str, Any] = {}
        for key in node:
            child = (*path, str(key))
            kline, kcol = _where(node, "key", key)
            smap.keys[child] = Position(kline + 1, kcol + 1)
            vline, vcol = _where(node, "value", key)
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


@functools.lru_cache(maxsize=1024)
def _ruamel_scalar(text: str) -> Any:
    """A plain scalar in a rare notation (`0x1F`, `1_000`, `1e3`, a date), read as the round-trip loader would."""
    from ruamel.yaml import YAML

    value = _plain(YAML(typ="rt").load(text), (), SourceMap("", Position(1, 1)))
    if isinstance(value, (dict, list)):
        raise ValueError(text)
    return value


@dataclass(frozen=True)
class LoadedFile:
    """One manifest file: its bytes (for the fingerprint) and its non-empty documents."""

    raw: bytes
    documents: list[SourceDocument]


def read_bounded(path: Path, name: str) -> bytes:
    """The file's bytes, refusing (without reading it all) a file over MAX_FILE_BYTES or not a regular file."""
    try:
        with path.open("rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise _as_errors([ManifestError(name, 1, 1, "not a regular file")])
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _as_errors([ManifestError(name, 1, 1, f"cannot read file: {exc.__class__.__name__}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise _as_errors([ManifestError(name, 1, 1, f"file is larger than {MAX_FILE_BYTES} bytes; split it "
                                                    "into several manifest files")])
    return raw


def load_documents(path: Path, display_name: str | None = None) -> LoadedFile:
    """Every non-empty document of one YAML file. Raises ManifestErrors on a syntax error or a broken limit."""
    name = display_name or str(path)
    raw = read_bounded(path, name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _as_errors([ManifestError(name, 1, 1, f"not UTF-8 text (byte {exc.start})")]) from None
    from reconciler.model.source_fast import LimitExceeded, LoadLimits, fast_documents  # it imports this module

    try:
        fast = fast_documents(text, name, LoadLimits(MAX_DOCUMENTS, MAX_DEPTH), slow_scalar=_ruamel_scalar)
    except LimitExceeded as exc:
        raise _as_errors([ManifestError(name, exc.line, exc.column, exc.message)]) from None
    if fast is not None:
        return LoadedFile(raw, fast)
    # the exact, slower path: anything the fast path does not cover (aliases, tags, every error's message)
    check_limits(text, name)
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    yaml = YAML(typ="rt")
    try:
        raw_docs = list(yaml.load_all(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        col = mark.column + 1 if mark else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise _as_errors([ManifestError(name, line, col, f"YAML syntax error: {problem}")]) from None
    except ReaderError as exc:  # a character YAML does not allow: point at it, shown escaped
        before = text[: max(exc.position, 0)]
        line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        raise _as_errors([ManifestError(name, line, col, f"character U+{exc.character:04X} is not allowed in YAML"
                                        if isinstance(exc.character, int) else "a character YAML does not allow")]) from None
    except (YAMLError, RecursionError, ValueError, TypeError) as exc:  # never a traceback for bad input
        raise _as_errors([ManifestError(name, 1, 1, f"YAML error: {exc.__class__.__name__}")]) from None
    documents = []
    for index, raw_doc in enumerate(raw_docs):
        if raw_doc is None:
            continue
        if isinstance(raw_doc, (CommentedMap, CommentedSeq)):
            start = Position(raw_doc.lc.line + 1, raw_doc.lc.col + 1)
        else:
            start = Position(1, 1)
        smap = SourceMap(name, start)
        documents.append(SourceDocument(_plain(raw_doc, (), smap), smap, index))
    return LoadedFile(raw, documents)


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
        with path.open("rb") as handle:
            head = handle.read(MAX_FILE_BYTES + 1)  # bounded: a larger file is a manifest the loader refuses
    except OSError:
        return True
    return len(head) > MAX_FILE_BYTES or MANIFEST_MARK.search(head) is not None


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
