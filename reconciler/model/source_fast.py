"""The fast path of manifest loading: libyaml's C event parser, with values and positions built here.

ruamel.yaml's round-trip loader (source.py) is pure Python and costs about 2 ms a document; libyaml
parses the same text in C. This module walks libyaml's events once, builds the plain values and the
`SourceMap` positions exactly as source.py's `_plain` does, and checks the input limits on the way.

It answers only for the plain documents manifests are made of: mappings with string keys, lists,
and scalars resolved by the YAML 1.2 core rules ruamel.yaml applies. Anything else (a syntax
error, an alias, an explicit tag, a `%YAML` directive, a duplicate or non-string key, a merge key, a
scalar in a rarely used notation) makes `fast_documents` return None, and the caller loads the file
with ruamel.yaml, so messages and values stay exactly those of the round-trip loader.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml  # type: ignore[import-untyped]
from yaml._yaml import CParser  # type: ignore[import-untyped]

from reconciler.model.source import Position, SourceDocument, SourceMap

_Frame = tuple[Any, tuple[str | int, ...], list[Any]]  # container, its path, [pending key, key position, flow?]

_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
_FLOAT = re.compile(r"[-+]?[0-9]+\.[0-9]+\Z")
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
# the first characters of plain scalars ruamel's YAML 1.2 resolver may read as something else than a string
_MAYBE_NOT_STR = frozenset("-+0123456789.<=~nNtTfF")
# every plain scalar ruamel.yaml's YAML 1.2 resolver reads as an int, a float or a timestamp is made of
# these characters (a superset: a match only means "ask ruamel.yaml"); anything else is a string
_NUMBER_OR_DATE = re.compile(r"[-+.0-9][-+.:0-9a-fA-FxXoObBiInNtTzZ_ \t]*\Z")


@dataclass(frozen=True)
class LoadLimits:
    """What one file may make the loader do (None: unbounded). Broken limits raise `LimitExceeded`."""

    max_documents: int | None = None
    max_depth: int | None = None


class LimitExceeded(Exception):
    """The input breaks a `LoadLimits` bound at (line, column), both 1-based."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line, self.column, self.message = line, column, message


class _Unsupported(Exception):
    """Something only the round-trip loader handles (or reports) exactly."""


def fast_documents(text: str, name: str, limits: LoadLimits = LoadLimits(),
                   slow_scalar: Callable[[str], Any] | None = None) -> list[SourceDocument] | None:
    """The non-empty documents of `text`, or None when the round-trip loader must decide.

    `slow_scalar` constructs a scalar in an unusual notation (`0x1F`, `1e3`, a date) the way the
    round-trip loader would; without it such scalars also send the file to the round-trip loader.
    """
    try:
        return _build(text, name, limits, slow_scalar)
    except (_Unsupported, yaml.YAMLError):
        return None


def _build(text: str, name: str, limits: LoadLimits, slow_scalar: Callable[[str], Any] | None) -> list[SourceDocument]:
    parser = CParser(text)
    documents: list[SourceDocument] = []
    index = -1
    stack: list[_Frame] = []
    smap = SourceMap(name, Position(1, 1))
    root: Any = None
    empty: tuple[str | int, ...] | None = None  # the path of an empty scalar just read
    try:
        while True:
            event = parser.get_event()
            if event is None:
                break
            if empty is not None:
                smap.values[empty] = Position(event.start_mark.line + 1, event.start_mark.column + 1)
                empty = None
            kind = type(event)
            if kind is yaml.ScalarEvent:
                if event.anchor is not None or event.tag is not None:
                    raise _Unsupported
                # plain scalars are resolved; quoted and block scalars (a style) are always strings
                value = _scalar(event.value, slow_scalar) if not event.style else event.value
                root = _place(stack, smap, value, event, root, is_scalar=True)
                if not event.value and not event.style and stack:
                    empty = _last_value_path(stack)  # positioned at the next token, as ruamel.yaml does
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if event.anchor is not None or event.tag is not None:
                    raise _Unsupported
                if limits.max_depth is not None and len(stack) >= limits.max_depth:
                    mark = event.start_mark
                    raise LimitExceeded(mark.line + 1, mark.column + 1,
                                        f"nested deeper than {limits.max_depth} levels")
                container: Any = {} if kind is yaml.MappingStartEvent else []
                if not stack:
                    smap.document = Position(event.start_mark.line + 1, event.start_mark.column + 1)
                path = _child_path(stack, smap, event)
                root = _place(stack, smap, container, event, root, is_scalar=False)
                stack.append((container, path, [None, None, bool(event.flow_style)]))
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                stack.pop()
            elif kind is yaml.DocumentStartEvent:
                if event.version is not None or event.tags:
                    raise _Unsupported
                index += 1
                if limits.max_documents is not None and index >= limits.max_documents:
                    mark = event.start_mark
                    raise LimitExceeded(mark.line + 1, mark.column + 1,
                                        f"more than {limits.max_documents} YAML documents in one file")
                smap, root = SourceMap(name, Position(1, 1)), None
            elif kind is yaml.DocumentEndEvent:
                if root is not None:
                    documents.append(SourceDocument(root, smap, index))
            elif kind is yaml.AliasEvent:
                raise _Unsupported
    finally:
        parser.dispose()
    return documents


def _scalar(text: str, slow_scalar: Callable[[str], Any] | None) -> Any:
    """A plain scalar as ruamel.yaml's YAML 1.2 core resolver reads it."""
    if not text:
        return None
    if text[0] not in _MAYBE_NOT_STR:
        return text
    if text in _NULL:
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    if text == "<<" or text == "=":
        raise _Unsupported
    if text[0] in "-+0123456789.":
        if not _NUMBER_OR_DATE.match(text):
            return text  # "720p", "1.2.3", "-dash": strings to ruamel.yaml too
        if slow_scalar is None:
            raise _Unsupported
        try:
            return slow_scalar(text)
        except Exception as exc:  # noqa: BLE001 - any surprise is the round-trip loader's to report
            raise _Unsupported from exc
    return text


def _last_value_path(stack: list[_Frame]) -> tuple[str | int, ...] | None:
    container, path, pending = stack[-1]
    if isinstance(container, list) or pending[0] is not None:
        return None  # in a sequence libyaml's mark is already ruamel.yaml's; a key is not empty
    if pending[2]:
        raise _Unsupported  # ruamel.yaml marks `{a: }` at the colon's end, which no event tells
    return (*path, next(reversed(container)))


def _child_path(stack: list[_Frame], smap: SourceMap, event: Any) -> tuple[str | int, ...]:
    if not stack:
        return ()
    container, path, pending = stack[-1]
    if isinstance(container, dict):
        if pending[0] is None:
            raise _Unsupported  # a collection as a mapping key
        return (*path, pending[0])
    return (*path, len(container))


def _place(stack: list[_Frame], smap: SourceMap, value: Any, event: Any, root: Any, *, is_scalar: bool) -> Any:
    """Put `value` where the event stream says it belongs; returns the document's root value."""
    mark = event.start_mark
    if not stack:
        return value
    container, path, pending = stack[-1]
    if isinstance(container, list):
        smap.values[(*path, len(container))] = Position(mark.line + 1, mark.column + 1)
        container.append(value)
        return root
    if pending[0] is None:  # this is a key
        if not is_scalar or not isinstance(value, str) or value in container:
            raise _Unsupported  # a non-string or duplicate key: the round-trip loader's message
        pending[0], pending[1] = value, Position(mark.line + 1, mark.column + 1)
        return root
    child = (*path, pending[0])
    smap.keys[child] = pending[1]
    smap.values[child] = Position(mark.line + 1, mark.column + 1)
    container[pending[0]] = value
    pending[0] = pending[1] = None
    return root
