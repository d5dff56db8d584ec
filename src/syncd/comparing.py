"""Does what SendGrid holds equal what syncd sent? Field by field, on what syncd maps only.

Also what would change, field by field, as plans and `syncd explain` show it: from what
SendGrid holds (`changes_from_held`), or for a contact new to it (`field_changes`).

SendGrid shows a contact with its reserved fields by name and its custom fields by *name*
(`search/emails`, exports), while syncd sends custom fields by *id*; values may come back
in another spelling (a number as text, a date as a timestamp). Fields syncd does not map
are never compared, and a typed field syncd left out (a blank Number or Date) neither.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

from syncd.shapes import FieldChange

FieldTypes = Mapping[str, tuple[str, str]]
"""Custom field id → (name, type), as bound for the list."""
_NOT_FIELDS = ("email", "custom_fields", "list_ids")

_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def differences(sent: Mapping[str, Any], held: Mapping[str, Any], fields: FieldTypes) -> list[str]:
    """The names of the mapped fields whose value SendGrid holds differs from the one sent.

    `sent` is a contact as sent (reserved fields by name, `custom_fields` by id); `held` is
    SendGrid's view of it (reserved fields by name, `custom_fields` by name; names matched
    without regard to case)."""
    return [name for name, _, _, same in _compared(sent, held, fields) if not same]


def same_as_held(sent: Mapping[str, Any], held: Mapping[str, Any], fields: FieldTypes) -> bool:
    """`not differences(...)`, quicker when every value is held exactly as sent (the common
    case of an audit: a million contacts, nearly all equal)."""
    if _exactly_held(sent, held, fields):
        return True
    return not differences(sent, held, fields)


def _exactly_held(sent: Mapping[str, Any], held: Mapping[str, Any], fields: FieldTypes) -> bool:
    for name, value in sent.items():
        if name in _NOT_FIELDS:
            continue
        if held.get(name, "") != value:
            return False
    sent_custom = sent.get("custom_fields")
    if not sent_custom:
        return True
    held_custom = held.get("custom_fields")
    if not isinstance(held_custom, Mapping) or not isinstance(sent_custom, Mapping):
        return False
    for field_id, value in sent_custom.items():
        name = fields[field_id][0] if field_id in fields else field_id
        if held_custom.get(name, "") != value:
            return False
    return True


def changes_from_held(
    sent: Mapping[str, Any], held: Mapping[str, Any], fields: FieldTypes
) -> list[FieldChange]:
    """`differences`, each with the value SendGrid holds (`from`) and the one sent (`to`);
    a blank value reads as null."""
    return [
        FieldChange(field=name, before=_text(was) or None, after=_text(will) or None)
        for name, will, was, same in _compared(sent, held, fields)
        if not same
    ]


def _compared(
    sent: Mapping[str, Any], held: Mapping[str, Any], fields: FieldTypes
) -> Iterator[tuple[str, Any, Any, bool]]:
    """(field name, value sent, value held, equal as SendGrid takes them) per mapped field."""
    for name, value in sent.items():
        if name in _NOT_FIELDS:
            continue
        yield name, value, held.get(name), _text(value) == _text(held.get(name))
    held_custom = held.get("custom_fields")
    by_name = (
        {str(k).lower(): v for k, v in held_custom.items()}
        if isinstance(held_custom, Mapping)
        else {}
    )
    sent_custom = sent.get("custom_fields")
    for field_id, value in sent_custom.items() if isinstance(sent_custom, Mapping) else ():
        name, kind = fields.get(field_id, (field_id, "Text"))
        was = by_name.get(name.lower())
        yield name, value, was, _same(value, was, kind)


def field_changes(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, names: Mapping[str, str]
) -> list[FieldChange]:
    """The fields whose value differs between two contacts as sent (custom fields by id,
    named through `names`: id → name), in the order sent. A blank value (`""`, or left
    out) reads as null; `before` None is a contact not sent before, `after` None one that
    leaves."""
    old, new = _by_name(before, names), _by_name(after, names)
    fields = [*new, *(name for name in old if name not in new)]
    return [
        FieldChange(field=name, before=old.get(name), after=new.get(name))
        for name in fields
        if old.get(name) != new.get(name)
    ]


def _by_name(contact: Mapping[str, Any] | None, names: Mapping[str, str]) -> dict[str, str]:
    if contact is None:
        return {}
    values = {name: _text(value) for name, value in contact.items() if name not in _NOT_FIELDS}
    custom = contact.get("custom_fields")
    for field_id, value in custom.items() if isinstance(custom, Mapping) else ():
        values[names.get(field_id, field_id)] = _text(value)
    return {name: value for name, value in values.items() if value}


def _same(sent: Any, held: Any, kind: str) -> bool:
    if kind == "Number":
        x, y = _number(sent), _number(held)
        return x is not None and y is not None and math.isclose(x, y, rel_tol=1e-12)
    if kind == "Date":
        day = _date(sent)
        return day is not None and day == _date(held)
    return _text(sent) == _text(held)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    us = _US_DATE.match(text)
    try:
        if us:
            return date(int(us[3]), int(us[1]), int(us[2]))
        if len(text) >= 10:
            return date.fromisoformat(text[:10])
    except ValueError:
        return None
    return None
