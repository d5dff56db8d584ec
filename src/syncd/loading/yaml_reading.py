"""Strict YAML: the bytes of one file → plain data, where every value came from, problems.

Built from the parser's event stream (libyaml when available), not from
`yaml.load`, so that:

- an anchor or an alias is refused at the first `&` or `*`: nothing is ever
  expanded, which also defuses alias bombs ("billion laughs");
- a duplicate key, a merge key `<<`, a key that is not text and a tag outside the
  plain YAML types are each reported at their line, all of them in one pass;
- nesting is capped, and the builder keeps its own stack (no recursion);
- each value's line and column are kept by data path, so a schema error can be
  reported at the key or value it concerns.

Exactly one document is accepted, and its root must be a mapping. Data is only
returned when the YAML had no problem at all: a file with a duplicate key is
ambiguous, and checking it further would report noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.events import DocumentEndEvent, DocumentStartEvent, Event, StreamEndEvent

from syncd.loading.problems import Problem, mask_secrets
from syncd.loading.yaml_building import (
    MAX_DEPTH,
    Builder,
    DataPath,
    FatalError,
    Loader,
    NodeInfo,
    Place,
    place_of,
)

__all__ = ["MAX_DEPTH", "DataPath", "Document", "NodeInfo", "Place", "read_yaml"]


@dataclass(frozen=True)
class Document:
    data: dict[str, Any] | None
    """The root mapping, or None when the YAML had any problem."""
    nodes: Mapping[DataPath, NodeInfo]
    problems: tuple[Problem, ...]


def _reader_problem(text: bytes, error: yaml.reader.ReaderError) -> tuple[Place, str]:
    position = max(0, min(int(error.position), len(text)))
    line = text.count(b"\n", 0, position) + 1
    column = position - (text.rfind(b"\n", 0, position) + 1) + 1
    reason = str(error.reason)
    if "characters are not allowed" in reason:
        code = error.character if isinstance(error.character, int) else ord(error.character)
        return Place(line, column), f"character #x{code:04x} is not allowed in YAML"
    return Place(line, column), f"not valid UTF-8 text ({reason})"


def _syntax_problem(error: yaml.MarkedYAMLError) -> tuple[Place | None, str]:
    # The problem text only: never the context snippet, which quotes the file.
    mark = error.problem_mark or error.context_mark
    place = Place(mark.line + 1, mark.column + 1) if mark is not None else None
    message = f"YAML syntax error: {mask_secrets(error.problem or error.context or '?')}"
    if error.context in ("while scanning an alias", "while scanning an anchor"):
        message += " (quote a value that starts with * or &, such as a cron expression)"
    return place, message


def _next(loader: Loader) -> Event:
    event = loader.get_event()
    if event is None:  # pragma: no cover - the parser ends every stream with StreamEndEvent
        raise FatalError(None, "the YAML stream ended unexpectedly")
    return event


def _read_events(builder: Builder, loader: Loader) -> None:
    _next(loader)  # the stream's start
    event = _next(loader)
    if isinstance(event, StreamEndEvent):
        raise FatalError(None, "the file is empty: expected one YAML document")
    while not isinstance(event := _next(loader), DocumentEndEvent):
        builder.feed(event)
    event = _next(loader)
    if isinstance(event, DocumentStartEvent):
        raise FatalError(place_of(event), "expected one YAML document, found a second one")


def read_yaml(text: bytes, file: str) -> Document:
    """Parse one destination file's bytes strictly; `file` is only used in problems."""
    try:
        loader = Loader(text)  # the pure-Python reader already decodes here
    except yaml.reader.ReaderError as error:
        place, message = _reader_problem(text, error)
        return Document(None, {}, (Problem(file, place.line, place.column, message),))
    builder = Builder(loader, file)
    try:
        _read_events(builder, loader)
    except FatalError as fatal:
        builder.problem(fatal.place, fatal.message)
    except yaml.reader.ReaderError as error:
        builder.problem(*_reader_problem(text, error))
    except yaml.MarkedYAMLError as error:
        builder.problem(*_syntax_problem(error))
    finally:
        loader.dispose()
    if not builder.problems and not isinstance(builder.root, dict):
        place = builder.nodes[()].place if () in builder.nodes else Place(1, 1)
        if builder.root_kind == "null":
            builder.problem(place, "the document is empty: expected a mapping (apiVersion: ...)")
        else:
            found = builder.root_kind
            builder.problem(place, f"the document must be a mapping (apiVersion: ...), not {found}")
    if builder.problems:
        return Document(None, builder.nodes, tuple(builder.problems))
    return Document(builder.root, builder.nodes, ())
