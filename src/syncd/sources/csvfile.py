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

import orjson
import xxhash

from syncd.destinations.segments import file_encoding
from syncd.errors import SourceInvalid
from syncd.sources.base import PrintedRow, Row, Stopping, never, project
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
MAX_RECORD_CHARS = 2 << 20
"""The longest record over several lines (its quoted fields span them), in characters."""


def text_encoding(encoding: str, what: str) -> str:
    try:
        return file_encoding(encoding)
    except ValueError as error:
        raise SourceInvalid(f"{what}: {error}") from None


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
        self.stopping = stopping
        self.max_line = max_line_bytes
        self.header_text = ""

    def rows(self, columns: Sequence[str]) -> Iterator[Row]:
        return ((number, values) for number, values, _ in self.printed_rows(columns, 0))

    def printed_rows(self, columns: Sequence[str], seed: int) -> Iterator[PrintedRow]:
        """`rows`, each with its record's fingerprint: the record's text as read, hashed
        under `seed` and the file's layout (`layout_seed`), so that a file is verified from
        its bytes alone when each line is a record (`csv_scan`)."""
        lines = text_lines(
            self.path,
            self.description,
            encoding=text_encoding(self.encoding, self.description),
            limit=self.max_line,
            stopping=self.stopping,
        )
        taken: list[str] = []  # the lines of the record being read
        flat = _taking(chain.from_iterable(lines), taken)
        reader = csv.reader(flat, delimiter=self.delimiter, strict=True)
        hashed = xxhash.xxh3_64_intdigest
        start = 1  # the line the record being read starts on
        try:
            header = [name.strip() for name in next(reader, [])]
            self.header_text = "".join(taken).rstrip("\r\n")
            taken.clear()
            layout = layout_seed(self.delimiter, self.encoding, self.header_text, seed)
            positions = project(header, columns, self.description)
            last = max(positions, default=-1)
            # The mapped columns are the file's own, in order: no projection to make.
            whole = positions == list(range(len(header)))
            start = reader.line_num + 1
            for record in reader:
                number, start = start, reader.line_num + 1
                # The record's text without the line ending that closes it (stripping every
                # trailing \r and \n strips that ending alone: a line break inside a record
                # is inside a quoted field, which ends with its quote), in UTF-8: for a
                # UTF-8 file, the bytes of its line as they are.
                text = (taken[0] if len(taken) == 1 else "".join(taken)).rstrip("\r\n")
                taken.clear()
                if not record:
                    continue  # a blank line: no record, no print
                printed = hashed(text.encode("utf-8", "surrogatepass"), layout)
                if whole and len(record) == len(positions):
                    yield number, record, printed
                elif len(record) > last:  # inline: a million times a read
                    yield number, [record[i] for i in positions], printed
                else:
                    yield number, projected(record, positions), printed
        except LineTooLong as error:
            line = line_number(self.path, error.offset)
            raise too_long(self.description, line, self.max_line) from None
        except RecordTooLong:
            raise SourceInvalid(
                f"{self.description}: the row starting on line {start} spans lines adding "
                f"up to more than the limit of {MAX_RECORD_CHARS >> 20} MiB (a quoted field "
                "left open?); is it the right file?"
            ) from None
        except Undecodable as error:
            line = line_number(self.path, error.offset)
            raise SourceInvalid(self.undecodable(line)) from None
        except csv.Error as error:
            problem = csv_problem(str(error), line=reader.line_num, start=start)
            raise SourceInvalid(f"{self.description}: {problem}") from None
        finally:
            lines.close()  # the file, also when the caller stops early

    def undecodable(self, line: int) -> str:
        return (
            f"{self.description}: line {line} is not valid {self.encoding}; "
            "set source.csv.encoding (e.g. latin-1) or fix the file"
        )


def projected(record: list[str], positions: list[int]) -> list[str | None]:
    """The mapped columns of a record, in the mapping's order; None where it is short."""
    if len(record) > max(positions, default=-1):
        return [record[i] for i in positions]
    return [record[i] if i < len(record) else None for i in positions]


def layout_seed(delimiter: str, encoding: str, header_text: str, seed: int) -> int:
    """What a record's print is hashed under: the mapping's `seed` and how the file is read
    (its delimiter, encoding and header), for equal lines mean equal values only then."""
    layout = orjson.dumps([delimiter, codecs.lookup(encoding).name, header_text])
    return xxhash.xxh3_64_intdigest(layout, seed)


class RecordTooLong(Exception):
    """A record's lines (a quoted field spanning lines) add up to more than the limit."""


def _taking(lines: Iterator[str], taken: list[str]) -> Iterator[str]:
    """The lines, each kept in `taken` (cleared by the reader at each record): a record
    of many lines is bounded as a whole, as a line is (each field alone was: 200 fields
    of 1 MB in 1 KB lines took 870 MB)."""
    append = taken.append
    size = 0
    for line in lines:
        append(line)
        if len(taken) == 1:
            size = len(line)
        else:
            size += len(line)
            if size > MAX_RECORD_CHARS:
                raise RecordTooLong
        yield line


def csv_problem(message: str, *, line: int, start: int) -> str:
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
