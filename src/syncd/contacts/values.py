"""Values as SendGrid takes them: numbers, dates, text; anything else refused with a reason.

The converters take a value as `build` staged it (text, trimmed) and return the JSON value
to send, or `None` to leave the field out; they raise `Refused` with the reason otherwise,
and never anything else. A reason never quotes the value: it may be anything a source
holds (a phone number, a line of a secret file), and reasons reach CI logs through
`syncd plan` on a pull request that maps the column; the row number finds the value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Final

from syncd.logs import controls

# A double holds every integer up to 2^53 exactly, and not all of them beyond: SendGrid
# stores Number fields as doubles (its legacy docs allowed "309 digits", a double's range).
MAX_EXACT_INTEGER: Final = 2**53
_EXACT_DIGITS: Final = len(str(MAX_EXACT_INTEGER))
# SendGrid's legacy docs limited text custom fields in bytes (sendgrid/docs PR 2921); the
# current API documents no limit, so this is a safe choice, not SendGrid's documented one.
TEXT_MAX_BYTES: Final = 1000
NOT_A_NUMBER: Final = (
    "the value is not a number; write ASCII digits with an optional sign, decimal point "
    "and exponent (e.g. -12, 4.5, 1e3)"
)
NOT_A_DATE: Final = "the value is not a date; use YYYY-MM-DD, an ISO 8601 date-time or MM/DD/YYYY"

# ASCII only: `float()` would also take `1_000`, other scripts' digits, `nan` and `inf`.
# Digits after the point only after a point: `[0-9]+\.?[0-9]*` could split a run of digits
# anywhere, and a value that fails at its end (100,000 digits then `x`) took minutes.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ISO_DATE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?"
    r"(?:[Zz]|[+-]([0-9]{2})(?::?([0-9]{2}))?)?)?"
)
_US_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
# The control characters (`syncd.logs.CONTROL_RANGES`: C0, C1, DEL, the bidirectional controls,
# the line and paragraph separators) are never sent: they take over terminals, reorder
# how a name shows in SendGrid and in emails ("Trojan Source"), or break lines in
# viewers and in JavaScript before ES2019. Multi-line text keeps its line breaks.
_CONTROL = controls()
_CONTROL_BUT_LINES = controls(keep="\t\n\r\u2028\u2029")

Typed = str | int | float


class Refused(ValueError):
    """A value SendGrid would refuse, or would store as another: `str()` is the reason."""


def number(written: str) -> int | float | None:
    """A JSON integer for a whole number written without an exponent, a float otherwise;
    blank: left out."""
    if not written:
        return None
    if len(written) < _EXACT_DIGITS and written.isascii() and written.isdigit():  # most numbers
        return int(written)
    if not _NUMBER.fullmatch(written):
        raise Refused(NOT_A_NUMBER)
    if "e" not in written and "E" not in written:
        whole, _, fraction = written.partition(".")
        if not fraction.strip("0"):
            return _integer(whole)
    value = float(written)
    if not math.isfinite(value):
        raise Refused("the value is beyond the range of a number (a double)")
    return value


def _integer(whole: str) -> int:
    digits = whole.lstrip("+-").lstrip("0")
    # The length first: int() of thousands of digits is slow, and refused beyond 4,300.
    magnitude = int(digits or "0") if len(digits) <= _EXACT_DIGITS else MAX_EXACT_INTEGER + 1
    if magnitude > MAX_EXACT_INTEGER:
        raise Refused(
            "the value is beyond ±2^53 (9,007,199,254,740,992), the largest integer "
            "a double holds exactly: SendGrid could not store it as written"
        )
    return -magnitude if whole.startswith("-") else magnitude


def calendar_date(written: str) -> str | None:
    """`MM/DD/YYYY` for Date fields (SendGrid documents it, and M/D/YYYY for CSV uploads,
    which a zero-padded date also is); blank: left out.

    A date-time keeps the calendar date as written: no time zone is converted."""
    if not written:
        return None
    if iso := _ISO_DATE.fullmatch(written):
        if (iso.lastindex or 0) > 3:
            hour, minute, second, offset_hours, offset_minutes = (
                int(part or 0) for part in iso.groups()[3:]
            )
            if hour > 23 or minute > 59 or second > 59 or offset_hours > 23 or offset_minutes > 59:
                raise Refused(f"{NOT_A_DATE} (its time is not a time of day)")
        year, month, day = iso[1], iso[2], iso[3]
    elif us := _US_DATE.fullmatch(written):
        month, day, year = us[1].zfill(2), us[2].zfill(2), us[3]
        if month > "12":  # most likely DD/MM/YYYY
            raise Refused(f"{NOT_A_DATE} (the month comes first)")
    else:
        raise Refused(NOT_A_DATE)
    try:
        date.fromisoformat(f"{year}-{month}-{day}")  # the ASCII digits matched above
    except ValueError:
        raise Refused(f"{NOT_A_DATE} (there is no such day)") from None
    return f"{month}/{day}/{year}"


def text(value: str) -> str:
    """As it is, up to `TEXT_MAX_BYTES` of UTF-8; blank: `""`, which clears the field."""
    if len(value) * 4 > TEXT_MAX_BYTES:  # shorter cannot be over: 4 bytes a character at most
        size = len(value.encode())
        if size > TEXT_MAX_BYTES:
            raise Refused(f"the value is {size:,} bytes of UTF-8, more than {TEXT_MAX_BYTES:,}")
    return value


# By SendGrid's custom field type (FieldType in the custom fields spec: Text, Number, Date;
# `Outgoing` sends a type SendGrid may add later as text, as syncd always did).
CONVERTERS: Final[Mapping[str, Callable[[str], Typed | None]]] = {
    "Text": text,
    "Number": number,
    "Date": calendar_date,
}


def control_character(value: str, *, lines: bool = False) -> str | None:
    """The first control character of `value` as `U+001B`, or None. With `lines`, tab,
    line feed, carriage return and the Unicode line and paragraph separators are allowed
    (multi-line text)."""
    found = (_CONTROL_BUT_LINES if lines else _CONTROL).search(value)
    return None if found is None else f"U+{ord(found[0]):04X}"
