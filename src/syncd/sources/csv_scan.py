"""A CSV file's record prints from its bytes alone, when every line is one record.

`CsvFile.printed_rows` fingerprints each record by its text as read, without the line
ending that closes it (hashed under `layout_seed`). In a UTF-8 file whose every line is
one whole record, which is so unless a quoted field spans lines, the same prints come
from the file's bytes: split at the line ends and hashed in C, without decoding or
parsing, about a fifth of the csv module's cost. A verify read needs no more
(`reconciling.scanning`): it only sums the prints.

The scan gives way (`NotPlain`) wherever it cannot be sure that a line is a record as
`printed_rows` reads it: a file in another encoding, a carriage return that does not end
a line, a line over the limit, or a line holding a quote that the csv module cannot read
as a whole record on its own (a quoted field may go on to the next line). The caller then
reads the file with the csv module. Nothing else is checked while scanning: a line that
does not decode or does not fit the columns has a print nothing acknowledged has, so its
bucket differs, and `lines_in` reads it as `CsvFile.rows` would, with the same errors.

The scan also keeps every line's length, so that `lines_in` reads the few lines it wants
where they are, not the whole file again: a line's offset is the header's bytes plus the
lengths before it, one newline byte each. That holds for a file whose lines all end in
`\n` (the scan checks that its lengths add up to the file's size); each line read where
it was found must still hash to the print the scan kept, else the file is not the one
scanned (`NotPlain`).
"""

from __future__ import annotations

import codecs
import csv
import os
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate, compress, repeat
from pathlib import Path
from typing import IO

import xxhash

from syncd.errors import SourceInvalid, SourceUnavailable
from syncd.sources.base import BadRow, PrintedRow, project, stopped
from syncd.sources.csvfile import CsvFile, csv_problem, layout_seed, projected
from syncd.sources.lines import NotPlain, open_regular, plain_lines

__all__ = ["KeptLines", "NotPlain", "Picks", "Scan", "open_scan"]

Picks = Callable[[Sequence[int]], Iterable[object]]
"""Which of some lines' prints are wanted: a flag for each, true or false (in C, ideally:
`map(wanted.__contains__, prints)`)."""
MAX_PICKED = 1 << 16
"""Lines read where they are at most; more are picked on a pass over the whole file,
which costs less than that many reads (and their offsets are not all held at once)."""
_BLOCK = 1 << 15
"""Lines' prints and lengths read back at a time."""
_PAGE = 4_096
"""Lines read where they are, checked and parsed at a time."""


@dataclass
class KeptLines:
    """What `Scan.prints` keeps of a file's lines for `lines_in`, in line order: each
    line's print (8 bytes) and length (4 bytes), blank lines too."""

    prints: IO[bytes]
    lengths: IO[bytes]
    placed: bool = False
    """Whether the lengths give each line's offset: every line of the file as scanned
    ended in `\\n` (they add up to its size)."""


@dataclass(frozen=True)
class Scan:
    """A plain CSV file, its header read: its lines' prints, or the rows of some."""

    file: CsvFile
    positions: list[int]
    layout: int
    header_bytes: int
    """Where the first line after the header starts, if it ends in `\\n`."""

    def prints(self, kept: KeptLines | None = None) -> Iterator[list[int]]:
        """Every record's print, a chunk of lines at a time (blank lines have none);
        `kept`, when given, is written every line's print and length, blank ones too."""
        hashed = xxhash.xxh3_64_intdigest
        scanned = self.header_bytes
        for lines in self._lines():
            prints = list(map(hashed, lines, repeat(self.layout)))
            if kept is not None:
                kept.prints.write(array("Q", prints).tobytes())
                lengths = array("I", map(len, lines))
                kept.lengths.write(lengths.tobytes())
                scanned += sum(lengths) + len(lengths)
            if not all(lines):
                prints = [printed for printed, line in zip(prints, lines, strict=True) if line]
            yield prints
        if kept is not None:
            kept.placed = _adds_up(scanned, self.file.path)

    def lines_in(self, picks: Picks, kept: KeptLines) -> Iterator[PrintedRow]:
        """The rows of the lines whose prints `picks` flags, read as `CsvFile.printed_rows`
        reads them; the prints are read back from `kept` (`prints` wrote them), not hashed
        again. A few lines are read where they are, else the file is read again and the
        lines picked in C."""
        picked = self._picked(picks, kept) if kept.placed else None
        if picked is None:
            yield from self._in_order(picks, kept.prints)
        else:
            yield from self._read_at(picked)

    def _picked(self, picks: Picks, kept: KeptLines) -> list[tuple[int, int, int, int]] | None:
        """Where each wanted line is: (offset, length, line number, print), in file order;
        None when more than `MAX_PICKED` are wanted."""
        picked: list[tuple[int, int, int, int]] = []
        offset, number = self.header_bytes, 2
        kept.prints.seek(0)
        kept.lengths.seek(0)
        while block := kept.prints.read(_BLOCK * 8):
            prints = array("Q", block)
            lengths = _read_back(kept.lengths, len(prints), "I")
            at = [i for i in compress(range(len(prints)), picks(prints)) if lengths[i]]
            if len(picked) + len(at) > MAX_PICKED:
                return None
            if at:
                starts = array("Q", accumulate(map((1).__add__, lengths), initial=offset))
                picked += [(starts[i], lengths[i], number + i, prints[i]) for i in at]
                offset = starts[-1]
            else:
                offset += sum(lengths) + len(lengths)
            number += len(prints)
        return picked

    def _read_at(self, picked: list[tuple[int, int, int, int]]) -> Iterator[PrintedRow]:
        file = self.file
        hashed = xxhash.xxh3_64_intdigest
        with open_regular(file.path, file.description) as handle:
            for first in range(0, len(picked), _PAGE):
                if file.stopping():
                    raise stopped(file.description)
                page = picked[first : first + _PAGE]
                try:
                    lines = [os.pread(handle.fileno(), size, at) for at, size, _, _ in page]
                except OSError as error:
                    raise SourceUnavailable(
                        f"{file.description}: cannot read: {error.strerror}"
                    ) from None
                prints = [printed for _, _, _, printed in page]
                if list(map(hashed, lines, repeat(self.layout))) != prints:
                    raise NotPlain  # not the bytes scanned: the caller stages everything
                yield from self._rows(lines, [number for _, _, number, _ in page], prints)

    def _in_order(self, picks: Picks, kept: IO[bytes]) -> Iterator[PrintedRow]:
        """`lines_in` by a pass over the whole file."""
        number = 1  # the header's line
        kept.seek(0)
        for lines in self._lines():
            prints = _read_back(kept, len(lines))
            at = [i for i in compress(range(len(lines)), picks(prints)) if lines[i]]
            if at:
                yield from self._rows(
                    [lines[i] for i in at], [number + i + 1 for i in at], [prints[i] for i in at]
                )
            number += len(lines)

    def _rows(
        self, lines: list[bytes], numbers: list[int], prints: list[int]
    ) -> Iterator[PrintedRow]:
        """The rows of some lines, each one whole record: decoded at once, parsed by one
        reader; the first line refused is reported, as `CsvFile.rows` reports it."""
        try:
            texts = b"\n".join(lines).decode("utf-8").split("\n")
        except UnicodeDecodeError:  # which line: one at a time, in order
            for line, number, printed in zip(lines, numbers, prints, strict=True):
                yield number, self._values(line, number), printed
            return
        reader = csv.reader(texts, delimiter=self.file.delimiter, strict=True)
        positions = self.positions
        last = max(positions, default=-1)
        try:
            for record, number, printed in zip(reader, numbers, prints, strict=True):
                if len(record) > last:
                    yield number, [record[i] for i in positions], printed
                else:
                    yield number, projected(record, positions), printed
        except csv.Error as error:
            number = numbers[reader.line_num - 1]
            problem = csv_problem(str(error), line=number, start=number)
            raise SourceInvalid(f"{self.file.description}: {problem}") from None

    def _lines(self) -> Iterator[list[bytes]]:
        """The lines after the header; `NotPlain` where a quote makes a line doubtful."""
        first = True
        for lines in self._plain():
            if first:
                lines, first = lines[1:], False
            joined = b"\n".join(lines)
            if b'"' in joined:
                _whole(_quoted(joined), self.file.delimiter)
            yield lines

    def _plain(self) -> Iterator[list[bytes]]:
        file = self.file
        return plain_lines(file.path, file.description, limit=file.max_line, stopping=file.stopping)

    def _values(self, line: bytes, number: int) -> Sequence[str | None] | BadRow:
        file = self.file
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise SourceInvalid(file.undecodable(number)) from None
        try:
            record = next(csv.reader([text], delimiter=file.delimiter, strict=True))
        except csv.Error as error:
            problem = csv_problem(str(error), line=number, start=number)
            raise SourceInvalid(f"{file.description}: {problem}") from None
        return projected(record, self.positions)


def open_scan(file: CsvFile, columns: Sequence[str], seed: int) -> Scan:
    """The file's header read as `CsvFile.rows` reads it; `NotPlain` when the file is not
    one to scan, `SourceInvalid` when its header lacks a mapped column."""
    if codecs.lookup(file.encoding).name != "utf-8":
        raise NotPlain
    head = next(iter(_first(file)), b"")
    if b'"' in head:
        _whole([head], file.delimiter)
    try:
        text = head.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise NotPlain from None
    header = [name.strip() for name in next(csv.reader([text], delimiter=file.delimiter), [])]
    positions = project(header, columns, file.description)
    layout = layout_seed(file.delimiter, file.encoding, text, seed)
    return Scan(file, positions, layout, len(head) + 1)


def _read_back(kept: IO[bytes], count: int, typecode: str = "Q") -> array[int]:
    """The next `count` values of `kept` (prints, or with typecode "I" line lengths);
    `NotPlain` when it has fewer (the file is not the one scanned: the caller stages it
    whole)."""
    values = array(typecode)
    block = kept.read(count * values.itemsize)
    if len(block) != count * values.itemsize:
        raise NotPlain
    values.frombytes(block)
    return values


def _adds_up(scanned: int, path: Path) -> bool:
    """Whether the lines' lengths, one newline byte each, are the file's size (the last
    line counted one byte it does not have if no newline ends it)."""
    try:
        return scanned - path.stat().st_size in (0, 1)
    except OSError:  # gone since: the caller finds the file changed
        return False


def _first(file: CsvFile) -> list[bytes]:
    lines = plain_lines(file.path, file.description, limit=file.max_line, stopping=file.stopping)
    try:
        return next(lines, [])[:1]
    finally:
        lines.close()


def _quoted(joined: bytes) -> list[bytes]:
    """The lines of `joined` that hold a quote (found by searching, not line by line)."""
    quoted = []
    at = joined.find(b'"')
    while at >= 0:
        end = joined.find(b"\n", at)
        end = len(joined) if end < 0 else end
        quoted.append(joined[joined.rfind(b"\n", 0, at) + 1 : end])
        at = joined.find(b'"', end)
    return quoted


def _whole(lines: list[bytes], delimiter: str) -> None:
    """`NotPlain` unless the csv module reads each of `lines` alone as one whole record: a
    quoted field left open (it would go on to the next line), or anything it refuses."""
    try:
        reader = csv.reader(
            b"\n".join(lines).decode("utf-8").split("\n"), delimiter=delimiter, strict=True
        )
        for records, _ in enumerate(reader, 1):
            if reader.line_num != records:  # a record took more than its line
                raise NotPlain
    except (csv.Error, UnicodeDecodeError):
        raise NotPlain from None
