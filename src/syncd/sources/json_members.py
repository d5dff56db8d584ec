"""The members of a JSON Lines line's outermost object, read without recursion.

Python's parser gives up on a document nested some thousand deep, and orjson past 1,024
levels: a line holding such a value in a column syncd does not even map was "not valid
JSON", and its contact, listed, a leaver. Reading only the outermost members (a key, and
its value's text skipped by counting brackets) needs no recursion, and tells a key the
object has twice, which both parsers take silently as its last value.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

python_json = functools.partial(json.loads, parse_constant=str)
"""Python's own parser, `NaN` and `Infinity` read as their text: for the lines orjson
refuses or reads inexactly."""
_SPACE = " \t\n\r"
scanstring: Callable[[str, int], tuple[str, int]] = getattr(json.decoder, "scanstring")  # noqa: B009
"""The standard parser's own string reader (in C): (the string, past its closing quote)."""


def members(text: str) -> list[tuple[str, str]] | None:
    """(key, the value's JSON text) of each member of the outermost object, in order; None
    when the text is not one JSON object."""
    i = _skip(text, 0)
    if not text.startswith("{", i):
        return None
    found: list[tuple[str, str]] = []
    i = _skip(text, i + 1)
    if text.startswith("}", i):
        return found if _skip(text, i + 1) == len(text) else None
    try:
        while text.startswith('"', i):
            key, i = scanstring(text, i + 1)
            i = _skip(text, i)
            if not text.startswith(":", i):
                return None
            start = i = _skip(text, i + 1)
            i = _value_end(text, i)
            if i >= len(text):
                return None
            found.append((key, text[start:i].rstrip(_SPACE)))
            if text[i] == "}":
                return found if _skip(text, i + 1) == len(text) else None
            i = _skip(text, i + 1)
    except ValueError:  # a string that does not end, a bad escape
        return None
    return None


def mapped(text: str, columns: Sequence[str]) -> dict[str, Any] | None:
    """The mapped members' values (a key written twice with different values: all of
    them, for its field to refuse), read one by one; None when the text is not an
    object. A value too deep to read comes as its text in a list: not one value."""
    listed = members(text)
    if listed is None:
        return None
    values: dict[str, Any] = {}
    for column in columns:
        written = list(dict.fromkeys(raw for key, raw in listed if key == column))
        if written:
            read = [_read(raw) for raw in written]
            values[column] = read[0] if len(read) == 1 else read
    return values


def _read(raw: str) -> Any:
    try:
        return python_json(raw)
    except (ValueError, RecursionError):
        return [raw]


def _value_end(text: str, i: int) -> int:
    """Where the value starting at `i` ends: at the `,` or `}` after it, outside any
    bracket or string."""
    depth = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            _, i = scanstring(text, i + 1)
            continue
        if c in "[{":
            depth += 1
        elif c in "]}":
            if depth == 0:
                return i
            depth -= 1
        elif c == "," and depth == 0:
            return i
        i += 1
    return i


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _SPACE:
        i += 1
    return i
