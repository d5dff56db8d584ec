"""CSV and JSON Lines files, streamed."""

from __future__ import annotations

import codecs
import csv
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import orjson
import xxhash

from syncd.errors import SourceInvalid, SourceUnavailable
from syncd.sources.base import BadRow, Row, project

csv.field_size_limit(1024 * 1024)


def _open_text(path: Path, encoding: str, what: str) -> IO[str]:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise SourceInvalid(f"{what}: unknown encoding {encoding!r}") from None
    if not path.is_file():
        state = "does not exist" if not path.exists() else "is not a regular file"
        raise SourceUnavailable(f"{what}: {path} {state}")
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-8-sig"  # tolerate the byte-order mark spreadsheets write
    try:
        return path.open(encoding=encoding, errors="strict", newline="")
    except OSError as error:
        raise SourceUnavailable(f"{what}: cannot open {path}: {error.strerror}") from None


def _undecodable_line(path: Path, encoding: str) -> int | None:
    """The first line that does not decode. The text reader decodes ahead, a chunk at a
    time, so where it fails says little; read again, one line at a time (exact for UTF-8
    and the single-byte encodings, whose newline byte is never part of a character)."""
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    raw.decode(encoding)
                except UnicodeDecodeError:
                    return number
    except (OSError, LookupError):
        return None
    return None


def content_print(path: Path) -> int:
    """A fingerprint of a file's bytes: equal bytes parse into equal rows."""
    digest = xxhash.xxh3_64()
    try:
        # Non-blocking, then checked: a FIFO swapped in must not hang the run.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise SourceUnavailable(f"{path} is not a regular file")
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError as error:
        raise SourceUnavailable(f"cannot read {path}: {error.strerror}") from None
    return digest.intdigest()


class CsvFile:
    def __init__(self, path: Path, *, delimiter: str = ",", encoding: str = "utf-8") -> None:
        self.path = path
        self.delimiter = delimiter
        self.encoding = encoding
        self.description = f"csv {path.name}"

    def rows(self, columns: Sequence[str]) -> Iterator[Row]:
        with _open_text(self.path, self.encoding, self.description) as handle:
            reader = csv.reader(handle, delimiter=self.delimiter, strict=False)
            try:
                header = [name.strip() for name in next(reader, [])]
                positions = project(header, columns, self.description)
                last = max(positions, default=-1)
                # The mapped columns are the file's own, in order: no projection to make.
                whole = positions == list(range(len(header)))
                for record in reader:
                    if not record:
                        continue
                    if whole and len(record) == len(positions):
                        yield reader.line_num, record
                    elif len(record) > last:
                        yield reader.line_num, [record[i] for i in positions]
                    else:
                        yield (
                            reader.line_num,
                            [record[i] if i < len(record) else None for i in positions],
                        )
            except UnicodeDecodeError:
                bad = _undecodable_line(self.path, self.encoding) or reader.line_num + 1
                raise SourceInvalid(
                    f"{self.description}: line {bad} is not valid "
                    f"{self.encoding}; set source.csv.encoding (e.g. latin-1) or fix the file"
                ) from None
            except csv.Error as error:
                raise SourceInvalid(
                    f"{self.description}: line {reader.line_num}: {error}; is it a CSV file?"
                ) from None


class JsonLinesFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"jsonl {path.name}"

    def rows(self, columns: Sequence[str]) -> Iterator[Row]:
        with _open_text(self.path, "utf-8", self.description) as handle:
            number = 0
            try:
                for number, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    yield number, self._values(line, columns)
            except UnicodeDecodeError:
                bad = _undecodable_line(self.path, "utf-8") or number + 1
                raise SourceInvalid(f"{self.description}: line {bad} is not valid UTF-8") from None

    @staticmethod
    def _values(line: str, columns: Sequence[str]) -> Sequence[Any] | BadRow:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            return BadRow("not valid JSON")
        if not isinstance(obj, dict):
            return BadRow("not a JSON object")
        values = [obj.get(column) for column in columns]
        if any(isinstance(v, dict | list) for v in values):
            return BadRow("a mapped value is an object or array, not a scalar")
        return values
