"""A verify read's rows kept on disk, so that staging the buckets that differ reads them
back instead of parsing the source again.

Each summed row is appended as it is read: its bucket, segment, row number and values as
`ContactBuilder.key` encodes them. The file is anonymous (unlinked at once: it holds
personal data, and nothing else can open it) and deleted when closed. It stops growing at
`MAX_BYTES`, or at a row it cannot hold; then it is not used, and the source is read again.
"""

from __future__ import annotations

import struct
import tempfile
from collections.abc import Iterator

_RECORD = struct.Struct("<HIQI")  # bucket, segment, row, length of the values
MAX_BYTES = 512 << 20
BLOCK = 1 << 20


class Spill:
    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self._file = tempfile.TemporaryFile(prefix="syncd-spill-")  # noqa: SIM115 - closed by close()
        self._left = max_bytes
        self.usable = True

    def add(self, bucket: int, segment: int, row: int, encoded: bytes | None) -> None:
        if not self.usable:
            return
        if encoded is None or len(encoded) + _RECORD.size > self._left:
            self.usable = False
            return
        self._left -= len(encoded) + _RECORD.size
        self._file.write(_RECORD.pack(bucket, segment, row, len(encoded)))
        self._file.write(encoded)

    def rows(self, buckets: set[int]) -> Iterator[tuple[int, int, bytes]]:
        """(segment, row, encoded values) of the rows of `buckets`, in read order, read
        back a block at a time."""
        self._file.seek(0)
        size, unpack = _RECORD.size, _RECORD.unpack_from
        pending = b""
        while block := self._file.read(BLOCK):
            data = pending + block
            at = 0
            while at + size <= len(data):
                bucket, segment, row, length = unpack(data, at)
                end = at + size + length
                if end > len(data):
                    break
                if bucket in buckets:
                    yield segment, row, data[at + size : end]
                at = end
            pending = data[at:]

    def close(self) -> None:
        self._file.close()
