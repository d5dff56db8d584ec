"""Export files: written from a snapshot of the account, split, kept gzip'd, served.

SendGrid documents that an export is CSV or JSON, that it is split into several files above
`max_file_size` MB, and nothing of the files' layout. The emulator's choices:

- CSV: a header row, then one row per contact. Columns: `EMAIL`, `FIRST_NAME`, `LAST_NAME`,
  the other reserved fields, `ALTERNATE_EMAILS` and `LIST_IDS` (items joined by commas),
  `CONTACT_ID`, `CREATED_AT`, `UPDATED_AT`, then one column per custom field, by its name,
  in the order the fields were defined. `export_header_case: lower` lower-cases the
  reserved names; custom field names stay as defined. Each file repeats the header.
- JSON: JSON lines, one `ContactDetails3` object per line (custom fields by name).
- A file holds at least one contact, at most `export_file_rows` contacts and at most
  `max_file_size` MB (10^6 bytes, uncompressed) unless one contact alone is larger.
- `export_gzip`: the file's bytes are gzip'd, whatever its URL's name says, and it is served
  as `application/octet-stream`: a client must look at the bytes.

The files are kept gzip'd in memory either way (inflated as they are served when
`export_gzip` is off), so that a million contacts take tens of megabytes, not hundreds.
"""

from __future__ import annotations

import asyncio
import csv
import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import orjson
from aiohttp import web

from syncd.emulator.profiles import ExportHeaderCase
from syncd.emulator.store import Contact, Store
from syncd.emulator.views import contact_view

ExportFileType = Literal["csv", "json"]
CONTENT_TYPES: dict[ExportFileType, str] = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/x-ndjson",
}
GZIP_CONTENT_TYPE = "application/octet-stream"
CSV_COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "address_line_1",
    "address_line_2",
    "city",
    "state_province_region",
    "postal_code",
    "country",
    "alternate_emails",
    "phone_number",
    "whatsapp",
    "line",
    "facebook",
    "unique_name",
    "phone_number_id",
    "external_id",
    "anonymous_id",
    "list_ids",
    "contact_id",
    "created_at",
    "updated_at",
)
_ROWS_PER_YIELD = 2000  # how often writing lets the loop serve requests and apply jobs
_SEND_CHUNK = 256 * 1024
_GZIP_WBITS = 31  # zlib's gzip container
Encoder = Callable[[Contact, list[str]], bytes]


@dataclass(frozen=True)
class FileLayout:
    file_type: ExportFileType
    max_file_bytes: int
    rows_per_file: int | None
    gzip: bool
    header_case: ExportHeaderCase


@dataclass(frozen=True)
class ExportFile:
    gzipped: bytes
    rows: int


async def write_files(
    store: Store, list_ids: list[str], layout: FileLayout, base_url: str
) -> list[ExportFile]:
    """The contacts of these lists (all if none) as they are now, written into files."""
    contacts, members = _snapshot(store, list_ids)
    header, encode = _format(store, layout, base_url)
    files: list[ExportFile] = []
    current = _FileWriter(header)
    for index, contact in enumerate(contacts):
        line = encode(
            contact, [list_id for list_id, ids in members.items() if contact.email in ids]
        )
        if current.rows and (
            current.size + len(line) > layout.max_file_bytes or current.rows == layout.rows_per_file
        ):
            files.append(current.close())
            current = _FileWriter(header)
        current.add(line)
        if index % _ROWS_PER_YIELD == _ROWS_PER_YIELD - 1:
            await asyncio.sleep(0)
    files.append(current.close())
    return files


async def send_file(
    request: web.Request, written: ExportFile, layout: FileLayout
) -> web.StreamResponse:
    """Streams a file in chunks: gzip'd as held, or inflated on the way out."""
    content_type = GZIP_CONTENT_TYPE if layout.gzip else CONTENT_TYPES[layout.file_type]
    response = web.StreamResponse(headers={"Content-Type": content_type})
    await response.prepare(request)
    inflate = None if layout.gzip else zlib.decompressobj(wbits=_GZIP_WBITS)
    held = memoryview(written.gzipped)
    for start in range(0, len(held), _SEND_CHUNK):
        chunk = held[start : start + _SEND_CHUNK]
        await response.write(chunk if inflate is None else inflate.decompress(chunk))
    if inflate is not None:
        await response.write(inflate.flush())
    await response.write_eof()
    return response


def _snapshot(store: Store, list_ids: list[str]) -> tuple[list[Contact], dict[str, frozenset[str]]]:
    """The exported contacts and every list's members, now. The Contact objects never
    change (a changed contact is a new one), so holding them is holding this moment."""
    members = {found.id: frozenset(found.members) for found in store.lists.values()}
    if not list_ids:
        return list(store.contacts.values()), members
    wanted = frozenset().union(*(members[list_id] for list_id in list_ids))
    return [contact for contact in store.contacts.values() if contact.email in wanted], members


def _format(store: Store, layout: FileLayout, base_url: str) -> tuple[bytes, Encoder]:
    if layout.file_type == "json":

        def json_line(contact: Contact, list_ids: list[str]) -> bytes:
            return orjson.dumps(contact_view(contact, store, base_url, list_ids)) + b"\n"

        return b"", json_line
    custom = [(custom.id, custom.name) for custom in store.custom_fields.values()]
    names = [name.upper() if layout.header_case == "upper" else name for name in CSV_COLUMNS]
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def csv_line(cells: list[object]) -> bytes:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue().encode()

    def csv_row(contact: Contact, list_ids: list[str]) -> bytes:
        values: dict[str, object] = {
            **contact.fields,
            "email": contact.email,
            "alternate_emails": ",".join(contact.alternate_emails),
            "list_ids": ",".join(list_ids),
            "contact_id": contact.id,
            "created_at": contact.created_at,
            "updated_at": contact.updated_at,
        }
        cells = [values.get(column, "") for column in CSV_COLUMNS]
        return csv_line(cells + [contact.custom_fields.get(field_id, "") for field_id, _ in custom])

    return csv_line([*names, *(name for _, name in custom)]), csv_row


class _FileWriter:
    """One file being written, gzip'd as it grows; `size` counts the bytes before gzip."""

    def __init__(self, header: bytes) -> None:
        self._deflate = zlib.compressobj(1, zlib.DEFLATED, _GZIP_WBITS)
        self._gzipped: list[bytes] = []
        self._pending: list[bytes] = []  # lines not yet gzip'd: compressing each alone is slow
        self._pending_size = 0
        self.size = 0
        self.rows = 0
        self._write(header)

    def add(self, line: bytes) -> None:
        self._write(line)
        self.rows += 1

    def close(self) -> ExportFile:
        self._compress_pending()
        self._gzipped.append(self._deflate.flush())
        return ExportFile(gzipped=b"".join(self._gzipped), rows=self.rows)

    def _write(self, data: bytes) -> None:
        self.size += len(data)
        self._pending.append(data)
        self._pending_size += len(data)
        if self._pending_size >= _SEND_CHUNK:
            self._compress_pending()

    def _compress_pending(self) -> None:
        self._gzipped.append(self._deflate.compress(b"".join(self._pending)))
        self._pending.clear()
        self._pending_size = 0
