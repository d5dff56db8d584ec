"""A verify read's rows kept on disk, so that staging the buckets that differ reads them
back instead of parsing the source again.

Each summed row is appended as it is read: its bucket, segment, row number and values as
`ContactBuilder.key` encodes them, into one of 16 files by its group of buckets
(`ledger.GROUP_SHIFT`), so that reading back a few buckets reads a few files. The files
are anonymous (unlinked at once: they hold personal data, and nothing else can open
them) and deleted when closed. The spill stops growing at `MAX_BYTES`, or at a row it
cannot hold; it is not used then, and the source is read again.
"""

from __future__ import annotations

import heapq
import struct
import tempfile
from array import array
from collections.abc import Container, Iterator
from typing import IO

from syncd.ledger import BUCKET_MASK, GROUP_SHIFT, GROUPS, UNSIGNED
from syncd.sources.csv_scan import KeptLines

_RECORD = struct.Struct("<QIQI")  # source print, segment, row, length of the values
MAX_BYTES = 512 << 20
BLOCK = 1 << 18
"""Bytes read back at a time from a file."""
FLUSH = 1 << 16
"""Bytes a file's buffer holds before they are written (16 buffers: 1 MiB in all)."""
_pack = _RECORD.pack


class KeptPrints:
    """Every line's print and length from a verify scan (`scanning`), in line order, in
    anonymous files, two a segment: staging the lines that differ reads them back instead
    of hashing every line of the files again (once to match the buckets' prints, once
    more to pick the lines), and reads those lines where they are. Deleted when closed."""

    def __init__(self) -> None:
        self.files: list[KeptLines] = []

    def new(self) -> KeptLines:
        """The files of the next segment's lines."""
        kept = KeptLines(_anonymous(), _anonymous())
        self.files.append(kept)
        return kept

    def chunks(self, segment: int) -> Iterator[array[int]]:
        """One segment's prints, back from the start, a block at a time."""
        file = self.files[segment].prints
        file.seek(0)
        while block := file.read(BLOCK):
            prints = array(UNSIGNED)
            prints.frombytes(block)
            yield prints

    def close(self) -> None:
        for kept in self.files:
            kept.prints.close()
            kept.lengths.close()
        self.files.clear()


def _anonymous() -> IO[bytes]:
    return tempfile.TemporaryFile(prefix="syncd-prints-")


class Spill:
    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self._files: dict[int, IO[bytes]] = {}
        self._buffers = [bytearray() for _ in range(GROUPS)]
        self._left = max_bytes
        self.usable = True

    def add(self, raw: int, segment: int, row: int, encoded: bytes | None) -> None:
        """One row and its source print (unsigned; its bucket is the low bits): a million
        a read, appended to its file's buffer, written a block at a time."""
        if encoded is None:
            self.usable = False
            return
        group = (raw & BUCKET_MASK) >> GROUP_SHIFT
        buffer = self._buffers[group]
        buffer += _pack(raw, segment, row, len(encoded))
        buffer += encoded
        if len(buffer) >= FLUSH:
            self._flush(group)

    def finish(self) -> None:
        """Every row added is on disk (or the spill is not usable): the read has ended."""
        for group in range(GROUPS):
            if self._buffers[group]:
                self._flush(group)

    def _flush(self, group: int) -> None:
        buffer = self._buffers[group]
        if not self.usable or len(buffer) > self._left:
            self.usable = False
            buffer.clear()
            return
        self._left -= len(buffer)
        file = self._files.get(group)
        if file is None:
            file = self._files[group] = tempfile.TemporaryFile(prefix="syncd-spill-")  # noqa: SIM115 - closed by close()
        file.write(buffer)
        buffer.clear()

    def rows(
        self, buckets: set[int], prints: Container[int] | None = None
    ) -> Iterator[tuple[int, int, bytes, int]]:
        """(segment, row, encoded values, source print) of the rows of `buckets` (and
        among `prints`, when given), in read order (the files' rows merged by segment and
        row), read back a block at a time; after `finish`, when `usable`."""
        groups = sorted({bucket >> GROUP_SHIFT for bucket in buckets} & self._files.keys())
        return heapq.merge(*(self._group(self._files[g], buckets, prints) for g in groups))

    def prints(self, buckets: set[int]) -> list[array[int]]:
        """The source prints of the rows of `buckets`, by group (`matching.by_group`)."""
        groups = [array(UNSIGNED) for _ in range(GROUPS)]
        for group in {bucket >> GROUP_SHIFT for bucket in buckets} & self._files.keys():
            kept = groups[group]
            for _, _, _, raw in self._group(self._files[group], buckets, None, values=False):
                kept.append(raw)
        return groups

    @staticmethod
    def _group(
        file: IO[bytes],
        buckets: set[int],
        prints: Container[int] | None,
        *,
        values: bool = True,
    ) -> Iterator[tuple[int, int, bytes, int]]:
        """The rows of one file in `buckets` (and `prints`); their values left empty
        unless `values`."""
        file.seek(0)
        size, unpack = _RECORD.size, _RECORD.unpack_from
        pending = b""
        while block := file.read(BLOCK):
            data = pending + block
            at = 0
            while at + size <= len(data):
                raw, segment, row, length = unpack(data, at)
                end = at + size + length
                if end > len(data):
                    break
                if raw & BUCKET_MASK in buckets and (prints is None or raw in prints):
                    yield segment, row, data[at + size : end] if values else b"", raw
                at = end
            pending = data[at:]

    def close(self) -> None:
        for file in self._files.values():
            file.close()
        self._files.clear()
