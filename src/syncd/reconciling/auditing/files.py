"""Reading SendGrid's export files, whatever their layout, one contact at a time.

SendGrid documents that an export is CSV or JSON and may be split into several files, and
nothing of the files themselves. So each file is looked at, not trusted by its name:

- gzip'd or plain, told from its first two bytes (gzip's magic number);
- JSON lines (the first character `{`), one contact object a line, custom fields by name
  under `custom_fields`; or CSV with a header row, names matched without regard to case
  (`EMAIL`, `FIRST_NAME`, `CONTACT_ID` or `email`, ...), every column that is not one of
  SendGrid's own fields being a custom field, by its name.

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

import orjson

from syncd.contacts import ContactBuilder, Refused, address_key
from syncd.reconciling.auditing.bounded import BoundedLines
from syncd.sources.csvfile import MAX_FIELD_CHARS
from syncd.sources.lines import MAX_LINE_BYTES

GZIP_MAGIC = b"\x1f\x8b"
RESERVED = frozenset(
    {
        "first_name",
        "last_name",
        "address_line_1",
        "address_line_2",
        "city",
        "state_province_region",
        "postal_code",
        "country",
        "phone_number",
        "whatsapp",
        "line",
        "facebook",
        "unique_name",
    }
)
"""SendGrid's reserved fields a contact can be given (and syncd may map)."""
NOT_FIELDS = frozenset(
    {
        "email",
        "contact_id",
        "id",
        "list_ids",
        "segment_ids",
        "alternate_emails",
        "created_at",
        "updated_at",
        "phone_number_id",
        "external_id",
        "anonymous_id",
        "_metadata",
        "custom_fields",
    }
)
"""What an export shows besides field values (identifiers, memberships, timestamps)."""


@dataclass(frozen=True)
class HeldContact:
    email: str
    contact_id: str
    fields: str
    """JSON: reserved fields by name, `custom_fields` by name, as SendGrid holds them."""


@dataclass
class FileCounts:
    files: int = 0
    rows: int = 0
    unreadable: int = 0
    """Rows without a usable email (counted, never compared)."""
    newest_stamp: str = ""
    """The latest `updated_at`/`created_at` of any contact, as the files write it."""

    def saw_change(self, stamps: tuple[Any, ...]) -> None:
        # One format within an export: its ISO times order as text, and only the newest
        # is parsed (a million rows, two stamps each).
        for stamp in stamps:
            if isinstance(stamp, str) and stamp > self.newest_stamp:
                self.newest_stamp = stamp

    @property
    def newest_change(self) -> float | None:
        """The newest stamp in epoch seconds, when the files carry readable ones: SendGrid
        held every change up to then when it exported."""
        return _epoch(self.newest_stamp)


def read_export_file(
    path: Path, counts: FileCounts, wanted: Wanted = None
) -> Iterator[HeldContact]:
    """The contacts of one downloaded export file, in file order, fields as JSON text."""
    for email, contact_id, fields in export_contacts(path, counts, wanted):
        # orjson's bytes keep their first, larger buffer: as text they take only their size.
        yield HeldContact(email, contact_id, orjson.dumps(fields).decode())


Wanted = frozenset[str] | None
"""The fields to keep, by lower-cased name (reserved and custom alike); None keeps all."""


def export_contacts(
    path: Path, counts: FileCounts, wanted: Wanted = None
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(keyed email, contact id, fields) of every usable contact of one export file."""
    with _export_text(path, counts) as (first, text):
        if first == "{":
            rows = _json_rows(text, counts, wanted)
        else:
            rows = _csv_rows(csv.reader(text), counts, wanted)
        for email, contact_id, fields in rows:
            key = _keyed(email, counts)
            if key is not None:
                yield key, str(contact_id or ""), fields


def export_prints(
    path: Path, counts: FileCounts, builder: ContactBuilder
) -> Iterator[tuple[str, int]]:
    """(keyed email, `ContactBuilder.held_print`) of every usable contact of one export
    file: the same contacts and fields as `export_contacts`, without building each CSV
    row's fields (a million rows, an audit's quick way)."""
    with _export_text(path, counts) as (first, text):
        if first == "{":
            for email, _, fields in _json_rows(text, counts, builder.mapped_names):
                key = _keyed(email, counts)
                if key is not None:
                    yield key, builder.held_print(key, fields)
            return
        reader = csv.reader(text)
        layout = _CsvLayout.read(reader, builder.mapped_names)
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
    first = _first_character(path)
    with _opened(path) as binary:
        bounded = io.BufferedReader(BoundedLines(binary, MAX_LINE_BYTES), buffer_size=1 << 16)
        with io.TextIOWrapper(bounded, encoding="utf-8-sig", newline="") as text:
            yield first, text


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


def _only(fields: dict[str, Any], wanted: frozenset[str]) -> dict[str, Any]:
    """JSON lines' fields cut to those wanted (CSV rows are cut as they are read)."""
    kept = {name: value for name, value in fields.items() if name in wanted}
    custom = fields.get("custom_fields") or {}
    kept["custom_fields"] = {k: v for k, v in custom.items() if str(k).lower() in wanted}
    return kept


Row = tuple[Any, Any, dict[str, Any]]
"""(email, contact id, fields: reserved by name, `custom_fields` by name)."""

STAMPS = ("updated_at", "created_at")


def _json_rows(text: Iterable[str], counts: FileCounts, wanted: Wanted) -> Iterator[Row]:
    for line in text:
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError:
            row = None
        if not isinstance(row, dict):
            yield None, None, {}
            continue
        fields: dict[str, Any] = {
            name.lower(): value
            for name, value in row.items()
            if isinstance(name, str) and name.lower() in RESERVED and value not in ("", None)
        }
        custom = row.get("custom_fields")
        fields["custom_fields"] = (
            {k: v for k, v in custom.items() if v not in ("", None)}
            if isinstance(custom, dict)
            else {}
        )
        counts.saw_change(tuple(row.get(name) for name in STAMPS))
        if wanted is not None:
            fields = _only(fields, wanted)
        yield row.get("email"), row.get("contact_id") or row.get("id"), fields


def _csv_rows(reader: Iterator[list[str]], counts: FileCounts, wanted: Wanted) -> Iterator[Row]:
    layout = _CsvLayout.read(reader, wanted)
    if layout is None:
        return
    reserved, custom = layout.reserved, layout.custom
    email_at, id_at = layout.email_at, layout.id_at
    for values in layout.cells(reader, counts):
        # Blank cells are left out: they compare as blank, and cost disk at a million rows.
        fields: dict[str, Any] = {name: values[n] for n, name in reserved if values[n]}
        fields["custom_fields"] = (
            {name: values[n] for n, name in custom if values[n]} if custom else {}
        )
        yield values[email_at], values[id_at], fields


@dataclass(frozen=True)
class _CsvLayout:
    """Where a CSV export keeps what an audit reads, from its header row."""

    width: int
    email_at: int
    id_at: int
    stamp_at: int | None
    reserved: list[tuple[int, str]]
    """(cell, reserved field name) of the fields wanted."""
    custom: list[tuple[int, str]]
    """(cell, custom field name as SendGrid shows it) of the fields wanted."""

    @classmethod
    def read(cls, reader: Iterator[list[str]], wanted: Wanted) -> _CsvLayout | None:
        # The csv module's field limit is process-wide: sources' own (1 MiB, far above any
        # value SendGrid holds), never raised here, or segment files would lose their limit.
        csv.field_size_limit(MAX_FIELD_CHARS)
        header = next(reader, None)
        if header is None:
            return None
        names = [_column(name) for name in header]
        # A missing email or id column reads as a blank one past the end (rows are padded).
        names += [name for name in ("email", "contact_id") if name not in names]
        kept = [
            (n, name) for n, name in enumerate(names) if wanted is None or name.lower() in wanted
        ]
        return cls(
            width=len(names),
            email_at=names.index("email"),
            id_at=names.index("contact_id"),
            # updated_at when the file has it: never before created_at, and an earlier
            # stamp only leaves more contacts out (the safe side).
            stamp_at=next((names.index(name) for name in STAMPS if name in names), None),
            reserved=[(n, name) for n, name in kept if name in RESERVED],
            custom=[(n, name) for n, name in kept if name and name not in RESERVED | NOT_FIELDS],
        )

    def cells(self, reader: Iterator[list[str]], counts: FileCounts) -> Iterator[list[str]]:
        """Each row's cells, a short row padded with blanks; the newest stamp noted."""
        width, stamp_at = self.width, self.stamp_at
        newest = counts.newest_stamp
        for values in reader:
            if len(values) < width:
                if not values:
                    continue
                values += [""] * (width - len(values))
            # One format within an export: its ISO times order as text.
            if stamp_at is not None and values[stamp_at] > newest:
                newest = counts.newest_stamp = values[stamp_at]
            yield values


def _column(name: str) -> str:
    """A reserved field's name in lower case; a custom field's name as SendGrid shows it."""
    bare = name.strip()
    lowered = bare.lower()
    return lowered if lowered in RESERVED or lowered in NOT_FIELDS else bare


def _key(email: Any) -> str | None:
    if not isinstance(email, str) or not email.strip():
        return None
    try:
        return address_key(email)
    except Refused:
        return None


def _epoch(stamp: Any) -> float | None:
    """An ISO 8601 time as SendGrid writes it (`2026-11-30T02:33:40Z`), else None. A time
    to the second stands for the end of that second: the change came at most then."""
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        when = datetime.fromisoformat(stamp.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp() + (1.0 if when.microsecond == 0 else 0.0)
