"""The strict YAML reader's builder: the parser's events → plain data, the place and kind
of every value by data path, and the problems found on the way (`yaml_reading` drives it).

An anchor or an alias stops it at once (nothing is ever expanded); a duplicate key, a
merge key, a key that is not text or a tag outside the plain YAML types is a problem at
its line; nesting is capped, and the builder keeps its own stack (no recursion).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    Event,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from syncd.loading.problems import Problem, describe_key

try:
    from yaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as Loader  # type: ignore[assignment]

__all__ = ["MAX_DEPTH", "Builder", "DataPath", "FatalError", "Loader", "NodeInfo", "Place"]

MAX_DEPTH = 32
"""Deepest nesting accepted; a destination file needs about six levels."""

DataPath = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
_SCALAR_KINDS = {
    f"{_TAG}str": "text",
    f"{_TAG}int": "an integer",
    f"{_TAG}float": "a number",
    f"{_TAG}bool": "a boolean",
    f"{_TAG}null": "null",
    f"{_TAG}timestamp": "a date",
    f"{_TAG}merge": "a merge key",
}
# Dates stay the text they were written as: no destination field is a date, and a
# display name such as 2024-01-01 should not turn into one.
_KEPT_AS_TEXT = {f"{_TAG}str", f"{_TAG}timestamp"}
_COLLECTION_TAGS = {f"{_TAG}map", f"{_TAG}seq"}
_NO_ANCHORS = "YAML anchors and aliases are not allowed"


@dataclass(frozen=True, slots=True)
class Place:
    """A 1-based line and column."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """Where one value of the document is, and what YAML made of it."""

    place: Place
    """Where the value itself starts."""
    key: Place | None
    """Where its key is, when the value is a mapping entry."""
    kind: str
    """`a mapping`, `a list`, or the scalar's kind: `text`, `an integer`, `null`..."""
    plain: bool
    """An unquoted scalar, typed by YAML's rules (`yes` is a boolean, `0123` a number)."""

    @property
    def entry(self) -> Place:
        """The key of a mapping entry, else the value: where a reader looks first."""
        return self.key or self.place


class FatalError(Exception):
    """Stops reading: what follows cannot be trusted (or must not be expanded)."""

    def __init__(self, place: Place | None, message: str) -> None:
        super().__init__(message)
        self.place = place
        self.message = message


@dataclass
class _Open:
    """A mapping or list being built."""

    path: DataPath | None  # None: inside a key or a refused entry, not recorded
    value: dict[str, Any] | list[Any]
    kind: str
    place: Place
    awaiting_key: bool = True
    key: str | None = None  # the current entry's key, None when refused
    key_place: Place | None = None
    first_seen: dict[str, Place] = field(default_factory=dict)


def place_of(event: Event) -> Place:
    mark = event.start_mark
    return Place(mark.line + 1, mark.column + 1) if mark is not None else Place(1, 1)


def _resolve(loader: Loader, node_type: type[Node], value: str | None, implicit: Any) -> str:
    """The tag YAML's implicit rules give an untagged node (`yes` → bool, `12` → int)."""
    tag: str = loader.resolve(node_type, value, implicit)  # type: ignore[no-untyped-call]
    return tag


class Builder:
    def __init__(self, loader: Loader, file: str) -> None:
        self._loader = loader
        self._file = file
        self._stack: list[_Open] = []
        self.root: Any = None
        self.root_kind = "null"
        self.nodes: dict[DataPath, NodeInfo] = {}
        self.problems: list[Problem] = []

    def problem(self, place: Place | None, message: str) -> None:
        line, column = (place.line, place.column) if place is not None else (None, None)
        self.problems.append(Problem(self._file, line, column, message))

    def feed(self, event: Event) -> None:
        if isinstance(event, AliasEvent) or (
            isinstance(event, NodeEvent) and event.anchor is not None
        ):
            raise FatalError(place_of(event), _NO_ANCHORS)
        if isinstance(event, ScalarEvent):
            self._scalar(event)
        elif isinstance(event, CollectionStartEvent):
            self._start(event)
        else:  # the end of a mapping or a list
            finished = self._stack.pop()
            self._attach(finished.value, finished.kind, finished.place)

    def _slot(self) -> tuple[DataPath | None, Place | None]:
        """The data path of the node about to start, and the place of its key."""
        if not self._stack:
            return (), None
        top = self._stack[-1]
        if top.path is None:
            return None, None
        if isinstance(top.value, list):
            return (*top.path, len(top.value)), None
        if top.awaiting_key or top.key is None:
            return None, None
        return (*top.path, top.key), top.key_place

    def _record(self, place: Place, kind: str, plain: bool) -> None:
        path, key_place = self._slot()
        if path is not None:
            self.nodes[path] = NodeInfo(place, key_place, kind, plain)

    def _start(self, event: CollectionStartEvent) -> None:
        place = place_of(event)
        if len(self._stack) >= MAX_DEPTH:
            raise FatalError(place, f"nested deeper than {MAX_DEPTH} levels")
        is_mapping = isinstance(event, MappingStartEvent)
        tag = event.tag
        if tag is None or tag == "!":
            node_type = MappingNode if is_mapping else SequenceNode
            tag = _resolve(self._loader, node_type, None, event.implicit)
        if tag not in _COLLECTION_TAGS:
            self.problem(place, "YAML tags other than the standard types are not allowed")
        kind = "a mapping" if is_mapping else "a list"
        self._record(place, kind, plain=False)
        path, _ = self._slot()
        value: dict[str, Any] | list[Any] = {} if is_mapping else []
        self._stack.append(_Open(path, value, kind, place))

    def _scalar(self, event: ScalarEvent) -> None:
        place = place_of(event)
        tag = event.tag
        plain = event.tag is None and bool(event.implicit[0])
        if tag is None or tag == "!":
            tag = _resolve(self._loader, ScalarNode, event.value, event.implicit)
        kind = _SCALAR_KINDS.get(tag)
        value: Any = None
        if kind is None:
            self.problem(place, "YAML tags other than the standard types are not allowed")
            kind = "a tagged value"
        elif tag in _KEPT_AS_TEXT or kind == "a merge key":
            value = event.value
        else:
            node = ScalarNode(tag, event.value, None, None, event.style)
            try:
                value = self._loader.yaml_constructors[tag](self._loader, node)
            except (ValueError, ArithmeticError, yaml.YAMLError):
                self.problem(place, f"not a valid value for {kind}")
        self._record(place, kind, plain)
        self._attach(value, kind, place)

    def _attach(self, value: Any, kind: str, place: Place) -> None:
        if not self._stack:
            self.root, self.root_kind = value, kind
            return
        top = self._stack[-1]
        if isinstance(top.value, list):
            top.value.append(value)
        elif top.awaiting_key:
            top.awaiting_key = False
            top.key_place = place
            top.key = self._accept_key(top, value, kind, place)
        else:
            top.awaiting_key = True
            if top.key is not None:
                top.value[top.key] = value

    def _accept_key(self, top: _Open, key: Any, kind: str, place: Place) -> str | None:
        if kind == "a merge key":
            self.problem(place, "YAML merge keys (<<) are not allowed")
            return None
        if not isinstance(key, str) or kind != "text":
            self.problem(place, f"keys must be text, not {kind} (quote the key)")
            return None
        first = top.first_seen.get(key)
        if first is not None:
            self.problem(place, f"duplicate key {describe_key(key)} (first at line {first.line})")
            return None
        top.first_seen[key] = place
        return key
