"""Bounds on what one manifest file may make the loader do, checked on the YAML event stream
before any document is built (the event parser keeps no recursion, so a deep or explosive file
costs time proportional to its size, which MAX_FILE_BYTES bounds).

- MAX_FILE_BYTES: a larger file is refused before it is read whole;
- MAX_DOCUMENTS per file; MAX_DEPTH of nested mappings and sequences;
- MAX_ALIAS_NODES: nodes reached through aliases, counted with everything they expand to, so a
  "billion laughs" alias bomb is refused at the alias that crosses the limit;
- tags: only the plain YAML types (no `!!python/...`, no application tags).
"""

from __future__ import annotations

from reconciler.errors import ManifestError, ManifestErrors

MAX_FILE_BYTES = 1024 * 1024
MAX_DOCUMENTS = 1000
MAX_DEPTH = 32
MAX_ALIAS_NODES = 10_000
ALLOWED_TAGS = frozenset({"!"} | {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null",
                                                                       "map", "seq", "merge")})


def _refuse(name: str, event: object, message: str) -> ManifestErrors:
    mark = getattr(event, "start_mark", None)
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return ManifestErrors([ManifestError(name, line, col, message)])


def check_limits(text: str, name: str) -> None:
    """Raise ManifestErrors at the first event that breaks a limit; syntax errors are left to the loader."""
    # ruamel.yaml is a slow import that only the slow path (aliases, tags, errors) needs
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.events import (
        AliasEvent,
        CollectionEndEvent,
        CollectionStartEvent,
        DocumentStartEvent,
        NodeEvent,
        ScalarEvent,
    )

    sizes: dict[str, int] = {}  # anchor -> nodes it expands to
    stack: list[tuple[str | None, int]] = []  # open collections: (anchor, nodes so far)
    documents = aliased = 0
    try:
        for event in YAML(typ="rt").parse(text):
            if isinstance(event, DocumentStartEvent):
                documents += 1
                sizes.clear()
                if documents > MAX_DOCUMENTS:
                    raise _refuse(name, event, f"more than {MAX_DOCUMENTS} YAML documents in one file")
                continue
            if isinstance(event, NodeEvent) and not isinstance(event, AliasEvent):
                tag = getattr(event, "tag", None)
                tag = tag if tag is None or isinstance(tag, str) else str(getattr(tag, "value", tag))
                if tag is not None and tag not in ALLOWED_TAGS:
                    raise _refuse(name, event, f"YAML tag {tag!r} is not allowed; manifests hold plain "
                                               "mappings, lists, strings, numbers and booleans only")
            if isinstance(event, CollectionStartEvent):
                if len(stack) >= MAX_DEPTH:
                    raise _refuse(name, event, f"nested deeper than {MAX_DEPTH} levels")
                stack.append((event.anchor, 1))
            elif isinstance(event, CollectionEndEvent) and stack:
                anchor, count = stack.pop()
                _add(stack, sizes, anchor, count)
            elif isinstance(event, ScalarEvent):
                _add(stack, sizes, event.anchor, 1)
            elif isinstance(event, AliasEvent):
                expands = sizes.get(str(event.anchor), 1)
                aliased += expands
                if aliased > MAX_ALIAS_NODES:
                    raise _refuse(name, event, f"aliases expand to more than {MAX_ALIAS_NODES} nodes "
                                               "(an alias bomb?)")
                _add(stack, sizes, None, expands)
    except (MarkedYAMLError, YAMLError, RecursionError, ValueError, TypeError):
        return  # the loader reports syntax errors with their position


def _add(stack: list[tuple[str | None, int]], sizes: dict[str, int], anchor: str | None, count: int) -> None:
    if anchor is not None:
        sizes[anchor] = count
    if stack:
        parent_anchor, parent_count = stack[-1]
        stack[-1] = (parent_anchor, parent_count + count)
