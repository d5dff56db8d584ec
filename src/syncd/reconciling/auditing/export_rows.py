"""The two layouts of an export's rows: CSV with a header row, and JSON lines.

Each row comes out as (email as written, contact id, fields: reserved by name,
`custom_fields` by name, blank values left out), or, for the quick way, as its padded
cells with where each field is (`CsvLayout`). Reading a row also notes the newest change
stamp the export shows (`FileCounts`). Which file holds which layout, gzip and the line
bound are `files`' business.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from syncd.sources.csvfile import MAX_FIELD_CHARS

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


Wanted = frozenset[str] | None
"""The fields to keep, by lower-cased name (reserved and custom alike); None keeps all."""


def _only(fields: dict[str, Any], wanted: frozenset[str]) -> dict[str, Any]:
    """JSON lines' fields cut to those wanted (CSV rows are cut as they are read)."""
    kept = {name: value for name, value in fields.items() if name in wanted}
    custom = fields.get("custom_fields") or {}
    kept["custom_fields"] = {k: v for k, v in custom.items() if str(k).lower() in wanted}
    return kept


Row = tuple[Any, Any, dict[str, Any]]
"""(email, contact id, fields: reserved by name, `custom_fields` by name)."""

STAMPS = ("updated_at", "created_at")


def json_rows(text: Iterable[str], counts: FileCounts, wanted: Wanted) -> Iterator[Row]:
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


def csv_rows(reader: Iterator[list[str]], counts: FileCounts, wanted: Wanted) -> Iterator[Row]:
    layout = CsvLayout.read(reader, wanted)
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
class CsvLayout:
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
    def read(cls, reader: Iterator[list[str]], wanted: Wanted) -> CsvLayout | None:
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
