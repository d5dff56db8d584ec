"""JSON Lines files, streamed: one object a line, lines end at `\\n`, UTF-8.

A line that is not a JSON object is a `BadRow`; a line over the limit or bytes that are
not UTF-8 make the segment unreadable (`SourceInvalid`), as for CSV. A mapped value that
is not one value (an array, an object, a key written twice) comes as it is, for its
field to refuse: the row keeps its address, so its contact is not taken for a leaver.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from syncd.errors import SourceInvalid
from syncd.sources import json_members
from syncd.sources.base import BadRow, Row, Stopping, never
from syncd.sources.lines import MAX_LINE_BYTES, LineTooLong, byte_lines, too_long

BEYOND_ORJSON_INTEGERS = float(2**63)
"""Below it orjson reads every integer exactly (to 2^64 - 1 and from -2^63)."""


class JsonLinesFile:
    def __init__(
        self, path: Path, *, stopping: Stopping = never, max_line_bytes: int = MAX_LINE_BYTES
    ) -> None:
        self.path = path
        self.description = f"jsonl {path.name}"
        self._stopping = stopping
        self._max_line = max_line_bytes

    def rows(self, columns: Sequence[str]) -> Iterator[Row]:
        # How each mapped key is written without escapes; see _values.
        spellings = [orjson.dumps(column) for column in columns]
        chunks = byte_lines(
            self.path, self.description, limit=self._max_line, stopping=self._stopping
        )
        number = 0
        usable = 0
        first_bad: tuple[int, BadRow] | None = None
        try:
            for lines in chunks:
                if number == 0:
                    lines[0] = lines[0].removeprefix(codecs.BOM_UTF8)
                for line in lines:
                    number += 1
                    if line.strip():
                        values = self._values(line, number, columns, spellings)
                        if isinstance(values, BadRow):
                            first_bad = first_bad or (number, values)
                        else:
                            usable += 1
                        yield number, values
            if number == 0:
                # Zero bytes: an export cut short (or truncated to be rewritten) reads as
                # a segment of nobody, whose contacts would leave the list. As a CSV file
                # needs its header, a JSON Lines file needs a line: an empty segment is
                # written as one blank line.
                raise SourceInvalid(
                    f"{self.description}: the file is empty (0 bytes): an export cut "
                    "short? A segment with nobody in it is a file holding one blank line"
                )
            if first_bad is not None and not usable:
                # A file of which no line reads is another format or encoding (UTF-16
                # without its mark is valid UTF-8 with NULs): not a segment of nobody.
                at, bad = first_bad
                raise SourceInvalid(
                    f"{self.description}: no line is a usable JSON object (line {at}: "
                    f"{bad.reason}); is the file JSON Lines in UTF-8?"
                )
        except LineTooLong:
            # Every line before it came in earlier chunks, and was counted.
            raise too_long(self.description, number + 1, self._max_line) from None
        finally:
            chunks.close()

    def _values(
        self, line: bytes, number: int, columns: Sequence[str], spellings: list[bytes]
    ) -> Sequence[Any] | BadRow:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                raise SourceInvalid(
                    f"{self.description}: line {number} is not valid UTF-8"
                ) from None
            if b"\x00" in line:
                return BadRow("not valid JSON: it holds NUL bytes (UTF-16 or UTF-32?)")
            try:  # `NaN`, `Infinity`: Python's own parser (in C, as fast as it gets)
                obj = json_members.python_json(text)
            except (ValueError, RecursionError):
                # Nested past what the parsers take: read member by member (in Python, so
                # only for such lines).
                picked = json_members.mapped(text, columns)
                if picked is None:
                    return BadRow("not valid JSON")
                return [picked.get(column) for column in columns]
        if not isinstance(obj, dict):
            return BadRow("not a JSON object")
        values = [obj.get(column) for column in columns]
        # orjson reads an integer past 64 bits as the nearest double, silently another
        # number (18446744073709551617 → ...616), and a repeated key as its last value,
        # silently: such lines are read member by member instead. Only lines that may
        # repeat a mapped key pay for it: every member has a colon, so with no more colons
        # than keys no key repeats; else no key can repeat whose spelling occurs once,
        # unless an escape spells it another way.
        inexact = any(isinstance(v, float) and abs(v) >= BEYOND_ORJSON_INTEGERS for v in values)
        if inexact or (
            line.count(b":") != len(obj)
            and (b"\\" in line or any(line.count(spelling) > 1 for spelling in spellings))
        ):
            picked = json_members.mapped(line.decode("utf-8"), columns)
            if picked is not None:
                # A key written twice with different values comes with all of them: the
                # field refuses the row ("more than one value") and the contact stays on
                # the list as SendGrid has it (for the address itself, which of them is
                # meant is unknown: refused, no contact).
                values = [picked.get(column) for column in columns]
        # A list or an object among the mapped values comes as it is: the field refuses
        # it, the row keeps its address (as a refused value does), and its contact is
        # not taken for a leaver.
        return values
