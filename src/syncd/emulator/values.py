"""What a custom field of each type takes, under the lenient or the strict rules.

Lenient (the emulator's original rules): Number fields take numbers or numeric strings,
Text fields take strings or numbers (stored as text), Date fields take any string or number;
`""` clears any field. Strict (the `strict` profile): SendGrid is known to refuse a string
for a Number field and `null` (sendgrid/docs#6323), and shows Date custom fields as
MM/DD/YYYY; what it does with the rest is undocumented, so the strict rules refuse it, and a
client that gets past them gets past SendGrid:

- Number: a JSON number only (not `""`, not `"42"`), finite, an integer within +/-2^53
  (beyond that a double does not hold it exactly);
- Date: a string `MM/DD/YYYY`, zero-padded, a real calendar date (not `""`);
- Text: a string (`""` clears it) of at most 1,000 bytes of UTF-8.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from syncd.emulator import rules
from syncd.emulator.profiles import ValueRules

CustomValue = str | int | float

_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_DATE = re.compile(r"\d{2}/\d{2}/\d{4}")


@dataclass(frozen=True)
class Refused:
    """Why a value does not fit its field, e.g. `expected a Number`."""

    reason: str


def is_custom_value(value: object) -> bool:
    """The JSON types a custom field value may have at all: a string or a number."""
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def custom_value(raw: object, field_type: str, value_rules: ValueRules) -> CustomValue | Refused:
    """The stored form of a value for a field of this type, or why it does not fit."""
    if not is_custom_value(raw):
        return Refused(f"expected a {field_type}")
    assert isinstance(raw, str | int | float)
    if value_rules == "strict":
        return _strict(raw, field_type)
    converted = _lenient(raw, field_type)
    return Refused(f"expected a {field_type}") if converted is None else converted


def _lenient(raw: str | int | float, field_type: str) -> CustomValue | None:
    if raw == "" or field_type == "Date":
        return raw
    if field_type == "Text":
        return raw if isinstance(raw, str) else _number_text(raw)
    if isinstance(raw, str):
        text = raw.strip()
        if _INTEGER.fullmatch(text):
            return int(text)
        return float(text) if _NUMBER.fullmatch(text) else None
    return raw if math.isfinite(raw) else None


def _strict(raw: str | int | float, field_type: str) -> CustomValue | Refused:
    if field_type == "Number":
        if isinstance(raw, str):
            return Refused("expected a Number: a JSON number, not a string")
        if not math.isfinite(raw):
            return Refused("expected a finite Number")
        if isinstance(raw, int) and abs(raw) > rules.MAX_EXACT_INTEGER:
            return Refused(f"a Number integer must be within +/-{rules.MAX_EXACT_INTEGER}")
        return raw
    if not isinstance(raw, str):
        return Refused(f"expected a {field_type}: a string, not a number")
    if field_type == "Date":
        return raw if _is_date(raw) else Refused("expected a Date as MM/DD/YYYY")
    size = len(raw.encode())
    if size > rules.MAX_TEXT_VALUE_BYTES:
        return Refused(f"a Text value is at most {rules.MAX_TEXT_VALUE_BYTES} bytes of UTF-8")
    return raw


def _is_date(text: str) -> bool:
    if not _DATE.fullmatch(text):
        return False
    try:
        datetime.strptime(text, "%m/%d/%Y")
    except ValueError:
        return False
    return True


def _number_text(number: int | float) -> str:
    return str(int(number)) if isinstance(number, float) and number.is_integer() else str(number)
