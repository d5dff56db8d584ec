"""CSV files, streamed: the csv module in strict mode over a line-limited byte stream.

A row the mapping cannot use is a per-row problem (`BadRow` or a rejection later). A file
that cannot be parsed as a whole (an open quote, a line over the limit, bytes that do not
decode, a mapped column named twice) is `SourceInvalid`: the run stops before any diff,
so a broken file never removes anyone. Messages name the line and the rule, never data.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator, Sequence
from itertools import chain
from pathlib import Path

from syncd.errors import SourceInvalid
from syncd.sources.base import Row, Stopping, never, project
from syncd.sources.lines import (
    MAX_LINE_BYTES,
    LineTooLong,
    Undecodable,
    line_number,
    text_lines,
    too_long,
)

MAX_FIELD_CHARS = 1 << 20
csv.field_size_limit(MAX_FIELD_CHARS)  # a field may span lines: its own limit


def text_encoding(encoding: str, what: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise SourceInvalid(f"{what}: unknown encoding {encoding!r}") from None


class CsvFile:
    def __init__(
        self,
        path: Path,
        *,
        delimiter: str = ",",
        encoding: str = "utf-8",
        stopping: Stopping = never,
        max_line_bytes: int = MAX_LINE_BYTES,
    ) -> None:
        self.path = path
        self.delimiter = delimiter
        self.encoding = encoding
        self.description = f"csv {path.name}"
        self._stopping = stopping
        self._max_line = max_line_bytes

    def rows(self, columns: Sequence[str]) -> Iterator[Row]:
        lines = text_lines(
            self.path,
            self.description,
            encoding=text_encoding(self.encoding, self.description),
            limit=self._max_line,
            stopping=self._stopping,
        )
        reader = csv.reader(chain.from_iterable(lines), delimiter=self.delimiter, strict=True)
        start = 1  # the line the record being read starts on
        try:
            header = [name.strip() for name in next(reader, [])]
            positions = project(header, columns, self.description)
            last = max(positions, default=-1)
            # The mapped columns are the file's own, in order: no projection to make.
            whole = positions == list(range(len(header)))
            start = reader.line_num + 1
            for record in reader:
                number, start = start, reader.line_num + 1
                if not record:
                    continue
                if whole and len(record) == len(positions):
                    yield number, record
                elif len(record) > last:
                    yield number, [record[i] for i in positions]
                else:
                    yield number, [record[i] if i < len(record) else None for i in positions]
        except LineTooLong as error:
            line = line_number(self.path, error.offset)
            raise too_long(self.description, line, self._max_line) from None
        except Undecodable as error:
            raise SourceInvalid(
                f"{self.description}: line {line_number(self.path, error.offset)} is not valid "
                f"{self.encoding}; set source.csv.encoding (e.g. latin-1) or fix the file"
            ) from None
        except csv.Error as error:
            problem = _csv_problem(str(error), line=reader.line_num, start=start)
            raise SourceInvalid(f"{self.description}: {problem}") from None
        finally:
            lines.close()  # the file, also when the caller stops early


def _csv_problem(message: str, *, line: int, start: int) -> str:
    """The csv module's complaint as a rule and a line; its own text is never passed on."""
    if message == "unexpected end of data":
        return (
            f"the row starting on line {start} opens a quoted field that is never closed "
            "(the file ends inside it); close the quote, or double a quote inside a field"
        )
    if message.startswith("field larger than field limit"):
        return (
            f"the row starting on line {start} has a field longer than the limit of "
            f"{MAX_FIELD_CHARS} characters"
        )
    if "expected after" in message:
        return (
            f"line {line}: a quoted field's closing quote is followed by more text; "
            'double a quote inside a quoted field ("")'
        )
    return f"line {line} is not valid CSV; is it a CSV file with this delimiter?"
