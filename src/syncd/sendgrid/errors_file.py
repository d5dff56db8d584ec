"""A job's errors file, read tolerantly: SendGrid does not document its format.

`GET /v3/marketing/contacts/imports/{id}` says only to "download" `errors_url`. So any of
these is accepted: CSV or JSON (an array of objects, or one object a line), gzip'd or
not, header names matched without regard to case, spaces, dashes and underscores
(`email`, `Email`, `EMAIL`, `Email Address`, `email_address`). A row without a
recognisable address is skipped; the caller compares what was found with the job's
`errored_count` and checks whatever is not accounted for.
"""

from __future__ import annotations

import csv
import io
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

EMAIL_HEADERS = ("email", "emailaddress", "contactemail", "primaryemail")
REASON_HEADERS = ("error", "errors", "errormessage", "message", "reason", "errorreason")
MAX_REASON = 300
MAX_UNPACKED = 64 << 20
"""Bytes an errors file may hold once decompressed: a batch of 30,000 contacts with long
reasons is a few MB; past this it is not read (its contacts are looked up instead)."""


class UnreadableErrorsFile(ValueError):
    """An errors file syncd does not read: it unpacks past `MAX_UNPACKED`."""


DEFAULT_REASON = "rejected by SendGrid (no reason given)"


def header_key(name: str) -> str:
    """`Email Address` → `emailaddress`."""
    return "".join(ch for ch in name.lower() if ch not in " _-\t.").strip()


@dataclass(frozen=True)
class ErrorsFileLayout:
    """How one errors file was written: what `syncd probe --live` reports of it."""

    gzipped: bool
    format: Literal["csv", "json", "json-lines"]
    headers: tuple[str, ...]
    """Column names (CSV) or object keys (JSON, in order of first appearance), as written."""
    rows: int


@dataclass(frozen=True)
class ErrorsListed:
    """What a job's errors file says: the contacts it names, and how many rows it holds (a
    row whose address syncd cannot find still says that some contact was refused)."""

    rejected: dict[str, str]
    """Lower-cased email → SendGrid's reason."""
    rows: int


def parse_errors_file(raw: bytes) -> dict[str, str]:
    """Lower-cased email → SendGrid's reason, from the bytes of an errors file."""
    return list_errors(raw).rejected


def list_errors(raw: bytes) -> ErrorsListed:
    """The contacts an errors file names, and its number of rows."""
    layout, rows = read_errors_file(raw)
    rejected: dict[str, str] = {}
    for row in rows:
        email, reason = _pick(row)
        if email:
            rejected.setdefault(email, reason)
    return ErrorsListed(rejected, layout.rows)


def read_errors_file(raw: bytes) -> tuple[ErrorsFileLayout, list[Mapping[str, Any]]]:
    """The file's layout and its rows, keyed as written."""
    gzipped = raw[:2] == b"\x1f\x8b"
    if gzipped:
        raw = _gunzip(raw)
    if len(raw) > MAX_UNPACKED:
        raise UnreadableErrorsFile(f"the errors file holds over {MAX_UNPACKED >> 20} MB")
    text = raw.decode("utf-8-sig", errors="replace")
    stripped = text.lstrip()
    found = _json_rows(stripped) if stripped[:1] in ("[", "{") else None
    if found is not None:
        kind, rows = found
        keys = tuple(dict.fromkeys(str(key) for row in rows for key in row))
        return ErrorsFileLayout(gzipped, kind, keys, len(rows)), rows
    header, rows = _csv_rows(text)
    return ErrorsFileLayout(gzipped, "csv", header, len(rows)), rows


def _gunzip(raw: bytes) -> bytes:
    """Decompressed, but never past `MAX_UNPACKED` (a small file may unpack to gigabytes)."""
    unpacker = zlib.decompressobj(wbits=31)
    try:
        unpacked = unpacker.decompress(raw, MAX_UNPACKED + 1)
    except zlib.error as broken:
        raise UnreadableErrorsFile(f"the errors file is not valid gzip: {broken}") from None
    if len(unpacked) > MAX_UNPACKED:
        raise UnreadableErrorsFile(f"the errors file unpacks to over {MAX_UNPACKED >> 20} MB")
    return unpacked


JsonRows = tuple[Literal["json", "json-lines"], list[Mapping[str, Any]]]


def _json_rows(text: str) -> JsonRows | None:
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _json_lines(text)
    if isinstance(data, Mapping):
        for key in ("errors", "results", "rows", "contacts"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            return "json", [data]
    if isinstance(data, list):
        return "json", [row for row in data if isinstance(row, Mapping)]
    return None


def _json_lines(text: str) -> JsonRows | None:
    try:
        lines = [orjson.loads(line) for line in text.splitlines() if line.strip()]
    except orjson.JSONDecodeError:
        return None
    return "json-lines", [line for line in lines if isinstance(line, Mapping)]


def _csv_rows(text: str) -> tuple[tuple[str, ...], list[Mapping[str, Any]]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return (), []
    return tuple(header), [dict(zip(header, record, strict=False)) for record in reader]


def _pick(row: Mapping[str, Any]) -> tuple[str, str]:
    by_key = {header_key(str(k)): v for k, v in row.items()}
    email = _first(by_key, EMAIL_HEADERS)
    reason = _first(by_key, REASON_HEADERS)
    return (email or "").strip().lower(), reason or DEFAULT_REASON


def _first(row: Mapping[str, Any], keys: Iterable[str]) -> str | None:
    for key in keys:
        value = row.get(key)
        if value not in (None, ""):
            return _text(value)
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(_text(item) for item in value)
    elif isinstance(value, Mapping):
        value = value.get("message") or value.get("error") or ""
    return " ".join(str(value).split())[:MAX_REASON]
