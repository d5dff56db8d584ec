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

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

import orjson

from syncd.contacts import Refused, address_key
from syncd.errors import SendGridUnavailable
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


def read_export_file(path: Path, counts: FileCounts) -> Iterator[HeldContact]:
    """The contacts of one downloaded export file, in file order, fields as JSON text."""
    for email, contact_id, fields in export_contacts(path, counts):
        # orjson's bytes keep their first, larger buffer: as text they take only their size.
        yield HeldContact(email, contact_id, orjson.dumps(fields).decode())


def export_contacts(path: Path, counts: FileCounts) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(keyed email, contact id, fields) of every usable contact of one export file."""
    counts.files += 1
    with path.open("rb") as raw:
        gzipped = raw.read(2) == GZIP_MAGIC
    binary = cast(IO[bytes], gzip.open(path, "rb") if gzipped else path.open("rb"))  # noqa: SIM115 - closed below
    with binary, io.TextIOWrapper(binary, encoding="utf-8-sig", newline="") as text:
        first = _first_character(text)
        lines = _bounded_lines(text)
        rows = _json_rows(lines) if first == "{" else _csv_rows(lines)
        for email, contact_id, fields, stamps in rows:
            counts.rows += 1
            counts.saw_change(stamps)
            key = _key(email)
            if key is None:
                counts.unreadable += 1
            else:
                yield key, str(contact_id or ""), fields


def _bounded_lines(text: io.TextIOWrapper) -> Iterator[str]:
    """The file's lines, none longer than a source line may be: SendGrid's answer is
    untrusted, and a gzip'd file of one endless line must not fill the memory."""
    while line := text.readline(MAX_LINE_BYTES + 2):  # + its line ending
        if len(line.rstrip("\r\n")) > MAX_LINE_BYTES:
            raise SendGridUnavailable(
                f"SendGrid's export has a line over {MAX_LINE_BYTES:,} characters; it is not "
                "read (the next audit asks for a new export)"
            )
        yield line


def _first_character(text: io.TextIOWrapper) -> str:
    """The first character that is not white space, the stream rewound afterwards."""
    head = text.read(4096)
    text.seek(0)
    return head.lstrip()[:1]


Row = tuple[Any, Any, dict[str, Any], tuple[Any, ...]]
"""(email, contact id, fields: reserved by name, `custom_fields` by name, the contact's
`updated_at` and `created_at` when the file has them)."""

STAMPS = ("updated_at", "created_at")


def _json_rows(text: Iterator[str]) -> Iterator[Row]:
    for line in text:
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError:
            row = None
        if not isinstance(row, dict):
            yield None, None, {}, ()
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
        stamps = tuple(row.get(name) for name in STAMPS)
        yield row.get("email"), row.get("contact_id") or row.get("id"), fields, stamps


def _csv_rows(text: Iterator[str]) -> Iterator[Row]:
    # The csv module's field limit is process-wide: sources' own (1 MiB, far above any
    # value SendGrid holds), never raised here, or segment files would lose their limit.
    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(text)
    header = next(reader, None)
    if header is None:
        return
    names = [_column(name) for name in header]
    email_at = names.index("email") if "email" in names else None
    id_at = names.index("contact_id") if "contact_id" in names else None
    stamps_at = [names.index(name) for name in STAMPS if name in names]
    reserved = [(n, name) for n, name in enumerate(names) if name in RESERVED]
    custom = [
        (n, name) for n, name in enumerate(names) if name and name not in RESERVED | NOT_FIELDS
    ]
    width = len(names)
    for values in reader:
        if not values:
            continue
        if len(values) < width:  # a short row: the missing cells are blank
            values += [""] * (width - len(values))
        # Blank cells are left out: they compare as blank, and cost disk at a million rows.
        fields: dict[str, Any] = {name: values[n] for n, name in reserved if values[n]}
        fields["custom_fields"] = {name: values[n] for n, name in custom if values[n]}
        yield (
            values[email_at] if email_at is not None else None,
            values[id_at] if id_at is not None else None,
            fields,
            tuple(values[n] for n in stamps_at),
        )


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
