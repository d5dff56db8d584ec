"""Reading SendGrid's export files, whatever their layout, one contact at a time.

SendGrid documents that an export is CSV or JSON and may be split into several files, and
nothing of the files themselves. So each file is looked at, not trusted by its name:

- gzip'd or plain, told from its first two bytes (gzip's magic number);
- JSON lines (the first character `{`), one contact object a line, custom fields by name
  under `custom_fields`; or CSV with a header row, names matched without regard to case
  (`EMAIL`, `FIRST_NAME`, `CONTACT_ID` or `email`, ...), every column that is not one of
  SendGrid's own fields being a custom field, by its name.

A file that cannot be read to its end (gzip cut short or corrupt, text that is not UTF-8)
fails the audit as `ExportUnusable`: read again it would fail the same, so the next audit
asks for a new export rather than download this one again.

Each contact comes out as its keyed email (the same `address_key` a run uses), its contact
id, and its fields as SendGrid shows them (reserved fields by name, `custom_fields` by
name): what `syncd.comparing` compares with what syncd sends. Rows without a usable email
are counted, not compared.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import orjson

from syncd.contacts import ContactBuilder, Refused, address_key
from syncd.reconciling.auditing.bounded import BoundedLines
from syncd.reconciling.auditing.export_rows import (
    CsvLayout,
    FileCounts,
    Wanted,
    csv_rows,
    json_rows,
)
from syncd.sendgrid import ExportUnusable, answers
from syncd.sources.lines import MAX_LINE_BYTES

GZIP_MAGIC = b"\x1f\x8b"
BROKEN: tuple[tuple[type[Exception], str], ...] = (
    (EOFError, "it ends before gzip's end-of-stream marker"),
    (gzip.BadGzipFile, "its gzip header or checksum is wrong"),
    (zlib.error, "its compressed data is damaged"),
    (UnicodeDecodeError, "its text is not UTF-8"),
)
"""What reading a file cut short or corrupt raises, and what that says of the file (not
the error's own text: it may quote the file's bytes)."""


@dataclass(frozen=True)
class HeldContact:
    email: str
    contact_id: str
    fields: str
    """JSON: reserved fields by name, `custom_fields` by name, as SendGrid holds them."""


def read_export_file(
    path: Path, counts: FileCounts, wanted: Wanted = None
) -> Iterator[HeldContact]:
    """The contacts of one downloaded export file, in file order, fields as JSON text."""
    for email, contact_id, fields in export_contacts(path, counts, wanted):
        # orjson's bytes keep their first, larger buffer: as text they take only their size.
        yield HeldContact(email, contact_id, orjson.dumps(fields).decode())


def export_contacts(
    path: Path, counts: FileCounts, wanted: Wanted = None
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(keyed email, contact id, fields) of every usable contact of one export file."""
    with _export_text(path, counts) as (first, text):
        if first == "{":
            rows = json_rows(text, counts, wanted)
        else:
            rows = csv_rows(csv.reader(text), counts, wanted)
        for email, contact_id, fields in rows:
            key = _keyed(email, counts)
            if key is not None:
                # An id that is not one to send back (`a,b` would prune a second contact)
                # is none: the contact is reported, never pruned.
                yield key, answers.sendable_id(contact_id) or "", fields


def export_prints(
    path: Path, counts: FileCounts, builder: ContactBuilder
) -> Iterator[tuple[str, int]]:
    """(keyed email, `ContactBuilder.held_print`) of every usable contact of one export
    file: the same contacts and fields as `export_contacts`, without building each CSV
    row's fields (a million rows, an audit's quick way)."""
    with _export_text(path, counts) as (first, text):
        if first == "{":
            for email, _, fields in json_rows(text, counts, builder.mapped_names):
                key = _keyed(email, counts)
                if key is not None:
                    yield key, builder.held_print(key, fields)
            return
        reader = csv.reader(text)
        layout = CsvLayout.read(reader, builder.mapped_names)
        if layout is None:
            return
        printed = builder.held_printer(
            {name: n for n, name in layout.reserved}, {name: n for n, name in layout.custom}
        )
        email_at = layout.email_at
        for values in layout.cells(reader, counts):
            key = _keyed(values[email_at], counts)
            if key is not None:
                yield key, printed(key, values)


@contextlib.contextmanager
def _export_text(path: Path, counts: FileCounts) -> Iterator[tuple[str, io.TextIOWrapper]]:
    """The file's first character that is not white space, and its text, its lines bounded."""
    counts.files += 1
    with _intact():
        first = _first_character(path)
        with _opened(path) as binary:
            bounded = io.BufferedReader(BoundedLines(binary, MAX_LINE_BYTES), buffer_size=1 << 16)
            with io.TextIOWrapper(bounded, encoding="utf-8-sig", newline="") as text:
                yield first, text


@contextlib.contextmanager
def _intact() -> Iterator[None]:
    """Reading a file cut short or corrupt fails as `ExportUnusable`, saying so."""
    try:
        yield
    except tuple(kind for kind, _ in BROKEN) as error:
        why = next(what for kind, what in BROKEN if isinstance(error, kind))
        raise ExportUnusable(
            f"the export file SendGrid gave was cut short or corrupt ({why}); a new export "
            "is asked for at the next audit"
        ) from None


def _keyed(email: Any, counts: FileCounts) -> str | None:
    """The row counted, its email keyed as a run keys it; None (counted) if unusable."""
    counts.rows += 1
    if type(email) is str and email.isascii():
        key: str | None = email.strip().lower()  # `address_key`'s plain case
    else:
        key = _key(email)
    if not key:
        counts.unreadable += 1
        return None
    return key


def _opened(path: Path) -> IO[bytes]:
    """The file's bytes, gunzipped when its first two bytes are gzip's magic number."""
    with path.open("rb") as raw:
        gzipped = raw.read(2) == GZIP_MAGIC
    return cast(IO[bytes], gzip.open(path, "rb") if gzipped else path.open("rb"))


def _first_character(path: Path) -> str:
    """The first character of the file that is not white space."""
    with _opened(path) as binary:
        head = binary.read(4096).decode("utf-8-sig", errors="replace")
    return head.lstrip()[:1]


def _key(email: Any) -> str | None:
    if not isinstance(email, str) or not email.strip():
        return None
    try:
        return address_key(email)
    except Refused:
        return None
