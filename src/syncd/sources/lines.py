"""A source file's lines, read a chunk at a time under the limits every file reader needs.

Nothing here builds a line longer than the limit: its bytes are counted as they arrive
and the line is refused (`LineTooLong`) before more of it is read. Lines come a chunk's
worth at a time, as lists, so that the csv module and the JSON Lines loop see each line
with no Python call of its own in between. The run's stop signal is polled once a chunk.

Line numbers in errors are found by reading the file again up to the offset: counting
newline bytes, exact for UTF-8 and the encodings whose newline bytes only ever mean a
newline (ASCII, Latin-1, Windows code pages, Shift-JIS, GB 18030). In UTF-16 and UTF-32
a newline byte may be half of another character, so the bytes alone cannot bound a line:
the decoded line is bounded too, at the limit in characters (no character takes less
than a byte), and a line number may be off.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import stat
from collections.abc import Generator, Iterator
from pathlib import Path

import xxhash

from syncd.errors import SourceInvalid, SourceUnavailable
from syncd.sources.base import Stopping, stopped
from syncd.sources.opened import opened_as

MAX_LINE_BYTES = 1 << 20
"""The longest line a file source may have, its line ending excluded."""
CHUNK_BYTES = 1 << 16
"""Bytes read at a time (fewer under a smaller line limit)."""
# Where str.splitlines breaks a line and CSV does not (form feed, Unicode separators).
_OTHER_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


class LineTooLong(Exception):
    """A line over the limit; `offset` is where it starts in the file."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


class Undecodable(Exception):
    """Bytes that do not decode; `offset` is where in the file."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


SWAPPED = (
    "{what}: {path} was not the file opened (a link swapped in after it was checked?); "
    "nothing was read, it is tried again later"
)


def open_regular(path: Path, what: str) -> io.FileIO:
    """The file at `path` (a real path, checked), unbuffered; a FIFO or device swapped in
    is refused, never waited on, and so is any other file a link swapped in led to."""
    try:
        # Non-blocking, then checked: opening a FIFO must not hang the run.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise SourceUnavailable(f"{what}: {path} does not exist") from None
    except OSError as error:
        raise SourceUnavailable(f"{what}: cannot open {path}: {error.strerror}") from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise SourceUnavailable(f"{what}: {path} is not a regular file")
    if not opened_as(descriptor, path):
        os.close(descriptor)
        raise SourceUnavailable(SWAPPED.format(what=what, path=path))
    os.set_blocking(descriptor, True)
    return io.FileIO(descriptor, "rb", closefd=True)


def content_print(path: Path) -> int:
    """A fingerprint of a file's bytes: equal bytes parse into equal rows."""
    digest = xxhash.xxh3_64()
    with open_regular(path, "source file") as handle:
        try:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        except OSError as error:
            raise SourceUnavailable(f"cannot read {path}: {error.strerror}") from None
    return digest.intdigest()


def _version(file: io.FileIO) -> tuple[int, int]:
    """The open file's size and modification time: a write in place changes them."""
    status = os.fstat(file.fileno())
    return status.st_size, status.st_mtime_ns


def _changed_while_read(what: str) -> SourceUnavailable:
    """A file written in place while it was read: its rows may be half of one version and
    half of another, or cut short (whose contacts would count as leavers). Nothing read is
    used; the next try reads it again (a file replaced by a rename is read whole, either
    version, and needs none of this)."""
    return SourceUnavailable(
        f"{what}: changed while syncd read it (written in place?); nothing was compared, "
        "the next try reads it again. Replace source files atomically: write a new file, "
        "then rename it over the old one"
    )


def too_long(what: str, line: int, limit: int) -> SourceInvalid:
    size = f"{limit >> 20} MiB" if limit % (1 << 20) == 0 else f"{limit} bytes"
    return SourceInvalid(
        f"{what}: line {line} is longer than the limit of {size}; is it the right file?"
    )


class _Chunks:
    """A file's bytes in chunks no longer than the line limit (so a line wholly inside
    one is short enough), each line's length checked across them."""

    def __init__(
        self, path: Path, what: str, *, limit: int, breaks: bytes, stopping: Stopping
    ) -> None:
        self.file = open_regular(path, what)
        self.what = what
        self.limit = limit
        self.size = max(1, min(CHUNK_BYTES, limit))
        self.breaks = breaks  # the bytes that end a line: b"\n", or b"\r\n" for either
        self.stopping = stopping
        self.offset = 0  # of the next chunk
        self.line_start = 0  # of the line being read

    def __iter__(self) -> Iterator[bytes]:
        with self.file:
            opened = _version(self.file)
            while True:
                if self.stopping():
                    raise stopped(self.what)
                try:
                    data = self.file.read(self.size)
                except OSError as error:
                    raise SourceUnavailable(f"{self.what}: cannot read: {error.strerror}") from None
                if not data:
                    if _version(self.file) != opened or self.offset != opened[0]:
                        raise _changed_while_read(self.what)
                    return
                self._measure(data)
                yield data
                self.offset += len(data)

    def _measure(self, data: bytes) -> None:
        first = last = -1
        for byte in self.breaks:
            at = data.find(byte, 0, None if first < 0 else first)
            first = at if at >= 0 else first
            last = max(last, data.rfind(byte))
        if first >= 0:  # the open line ends in this chunk
            if self.offset + first - self.line_start > self.limit:
                raise LineTooLong(self.line_start)
            self.line_start = self.offset + last + 1
        if self.offset + len(data) - self.line_start > self.limit:
            raise LineTooLong(self.line_start)


def text_lines(
    path: Path, what: str, *, encoding: str, limit: int, stopping: Stopping
) -> Generator[list[str], None, None]:
    """Decoded lines ending at `\\n`, `\\r` or `\\r\\n`, endings kept (as the csv module
    wants them, to keep line breaks inside quoted fields), a chunk's worth at a time.
    A UTF-8 byte-order mark is dropped (spreadsheets write one)."""
    chunks = _Chunks(path, what, limit=limit, breaks=b"\n\r", stopping=stopping)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    # Dropped by hand rather than by utf-8-sig, whose error offsets would not count it.
    bom = codecs.lookup(encoding).name == "utf-8"
    carry = ""  # the start of a line that a later chunk ends
    for data in chunks:
        held = len(decoder.getstate()[0])  # bytes of a character the last chunk cut
        try:
            text = carry + decoder.decode(data)
        except UnicodeDecodeError as error:
            raise Undecodable(chunks.offset - held + error.start) from None
        except UnicodeError:  # UTF-16 or UTF-32 without a byte-order mark, say
            raise Undecodable(chunks.offset) from None
        if bom and text:
            text, bom = text.removeprefix("\ufeff"), False
        lines = _split(text)
        # A line not ended yet, or ended by \r that the next chunk may follow with \n.
        carry = lines.pop() if lines and lines[-1][-1] != "\n" else ""
        if len(carry) > limit:  # newline bytes that were halves of characters (UTF-16)
            raise LineTooLong(chunks.line_start)
        if lines:
            yield lines
    held = len(decoder.getstate()[0])
    try:
        text = carry + decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise Undecodable(chunks.offset - held + error.start) from None
    except UnicodeError:
        raise Undecodable(chunks.offset) from None
    if text:
        yield _split(text)


def _split(text: str) -> list[str]:
    if any(other in text for other in _OTHER_BREAKS):
        return _LINE.findall(text)  # slower, rare
    return text.splitlines(keepends=True)


def byte_lines(
    path: Path, what: str, *, limit: int, stopping: Stopping
) -> Generator[list[bytes], None, None]:
    """Lines ending at `\\n`, endings dropped, undecoded, a chunk's worth at a time."""
    carry = b""
    for data in _Chunks(path, what, limit=limit, breaks=b"\n", stopping=stopping):
        lines = (carry + data).split(b"\n")
        carry = lines.pop()
        if lines:
            yield lines
    if carry:
        yield [carry]


class NotPlain(Exception):
    """The file's lines cannot be told apart from its bytes alone (`plain_lines`)."""


def plain_lines(
    path: Path, what: str, *, limit: int, stopping: Stopping
) -> Generator[list[bytes], None, None]:
    """Lines ending at `\\n` or `\\r\\n`, endings dropped, undecoded, a chunk's worth at a
    time, as `text_lines` would split them; `NotPlain` at a carriage return that does not
    end a line (`text_lines` ends one there) or a line over the limit (`text_lines` says
    where)."""
    carry = b""
    try:
        for data in _Chunks(path, what, limit=limit, breaks=b"\n", stopping=stopping):
            if carry:
                data = carry + data
            end = data.rfind(b"\n") + 1
            body, carry = data[:end], data[end:]
            if not body:
                continue
            if b"\r" in body:
                body = body.replace(b"\r\n", b"\n")
                if b"\r" in body:
                    raise NotPlain
            yield body[:-1].split(b"\n")
    except LineTooLong:
        raise NotPlain from None
    if carry:
        carry = carry.removesuffix(b"\r")
        if b"\r" in carry:
            raise NotPlain
        yield [carry]


def line_number(path: Path, offset: int) -> int:
    """The number of the line that holds byte `offset` (read again: errors only)."""
    count = 0
    position = 0
    after_cr = False
    with open_regular(path, "source file") as handle:  # a FIFO swapped in: never waited on
        while position < offset and (chunk := handle.read(min(CHUNK_BYTES, offset - position))):
            count += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            if after_cr and chunk.startswith(b"\n"):
                count -= 1  # a \r\n split between two chunks
            after_cr = chunk.endswith(b"\r")
            position += len(chunk)
    return count + 1
