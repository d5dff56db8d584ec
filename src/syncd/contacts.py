"""From a source row to the exact SendGrid payload, and its fingerprint.

Three stages, so the hot path stays cheap:

* `ContactBuilder.key` runs for every row of every run and does as little as it can:
  the email as the row's key, the source values encoded, and their fingerprint
  (`raw`). A row whose values are those SendGrid acknowledged needs nothing more.
* `ContactBuilder.build` runs for the other rows: trim, lower-case the email, enforce
  SendGrid's field lengths, encode the payload canonically and fingerprint it.
  Custom fields are still keyed by *name* here.
* `Outgoing.encode` runs only for contacts about to be sent (new or changed):
  full email syntax check, custom-field typing, names replaced by SendGrid ids.

The fingerprint covers the name-keyed payload of non-blank values; the
`FieldBinding` digest covers what turns it into the bytes sent (list id, field ids
and types). Blank values are left out of the fingerprint on purpose: mapping a new
column re-sends only the contacts that have a value in it. When a contact is sent,
its blank mapped fields go out as `""`, so a value cleared in the source is
cleared in SendGrid too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any

import orjson
import xxhash
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from syncd.destinations import Mapping as FieldMapping

# SendGrid's maxLength per reserved field (ContactRequest in the contacts spec);
# postal_code has none.
FIELD_LIMITS: Mapping[str, int | None] = {
    "email": 254,
    "first_name": 50,
    "last_name": 50,
    "address_line_1": 100,
    "address_line_2": 100,
    "city": 60,
    "state_province_region": 50,
    "postal_code": None,
    "country": 50,
}
_SIGN = 1 << 63
_WRAP = 1 << 64


def to_signed64(value: int) -> int:
    """Unsigned 64-bit hash → signed, so SQLite and PostgreSQL store it as a plain integer."""
    return value - _WRAP if value >= _SIGN else value


def fingerprint(payload: bytes) -> int:
    return to_signed64(xxhash.xxh3_64_intdigest(payload))


@dataclass(frozen=True, slots=True)
class Built:
    email: str
    payload: bytes
    fingerprint: int


class ContactBuilder:
    """Compiled once per run from the mapping; `build` is called per row."""

    def __init__(self, mapping: FieldMapping) -> None:
        reserved = mapping.reserved()
        columns: list[str] = []
        for column in [*reserved.values(), *mapping.custom_fields.values()]:
            if column not in columns:
                columns.append(column)
        self.columns: tuple[str, ...] = tuple(columns)
        index = {column: i for i, column in enumerate(columns)}
        self._email = index[reserved["email"]]
        self._reserved = tuple(
            (field, index[column], FIELD_LIMITS[field])
            for field, column in reserved.items()
            if field != "email"
        )
        self._custom = tuple(
            (name, index[column]) for name, column in mapping.custom_fields.items()
        )
        # The raw fingerprint depends on which column feeds which field, so a mapping
        # change makes every row stale (rebuilt, and re-sent only if its payload changed).
        described = orjson.dumps([sorted(reserved.items()), sorted(mapping.custom_fields.items())])
        self._seed = xxhash.xxh3_64_intdigest(described)

    def key(self, values: list[Any]) -> tuple[str, int, bytes] | str:
        """(email, raw fingerprint, encoded values) for one row, or why it is refused.

        The email is only trimmed and lower-cased here; `build` checks the rest."""
        email = values[self._email]
        if type(email) is not str:
            email = _text(email)
        email = email.strip().lower()
        if not email:
            return "email is empty"
        encoded = _compact(orjson.dumps(values, default=str))
        raw = xxhash.xxh3_64_intdigest(encoded, self._seed)
        return email, raw - _WRAP if raw >= _SIGN else raw, encoded

    def raw_print(self, values: list[Any]) -> int | None:
        """`key`'s fingerprint alone (unsigned), or None for a row without an email: the
        least a row can cost, for checking that nothing changed."""
        email = values[self._email]
        if email is None or not (email if type(email) is str else _text(email)).strip():
            return None
        return xxhash.xxh3_64_intdigest(orjson.dumps(values, default=str), self._seed)

    def build_encoded(self, encoded: bytes) -> Built | str:
        """`build` on values as `key` encoded them."""
        values: list[Any] = orjson.loads(encoded)
        return self.build(values)

    def build(self, values: Sequence[Any]) -> Built | str:
        """The contact for one row, or the reason the row is rejected."""
        email = _text(values[self._email]).lower()
        if not email:
            return "email is empty"
        if len(email) > 254:
            return "email is longer than 254 characters"
        if "@" not in email:
            return "email is not a valid address: no @"
        payload: dict[str, Any] = {"email": email}
        for field, i, limit in self._reserved:
            value = _text(values[i])
            if not value:
                continue
            if limit is not None and len(value) > limit:
                return f"{field} is longer than {limit} characters ({len(value)})"
            payload[field] = value
        if self._custom:
            custom = {name: value for name, i in self._custom if (value := _text(values[i]))}
            if custom:
                payload["custom_fields"] = custom
        encoded = _compact(orjson.dumps(payload))
        return Built(email, encoded, fingerprint(encoded))


def _compact(encoded: bytes) -> bytes:
    """A copy of exactly its length. An `orjson.dumps` result keeps a ≈ 4 KB allocation
    however short it is, and these are held by the ten thousand (a staging chunk, a
    batch of 30,000): 118 MB instead of 6 MB for a batch."""
    return bytes(memoryview(encoded))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass(frozen=True)
class CustomField:
    id: str
    type: str  # Text | Number | Date


@dataclass(frozen=True)
class FieldBinding:
    """What turns a staged payload into the bytes sent to one list.

    `generation` changes when a custom field used before got another id or type (see
    the ledger's `field_generation`): the digest, stored with every acknowledged
    contact, then differs and everyone is sent again. Mapping a new field does not.
    """

    list_id: str
    custom_fields: Mapping[str, CustomField]
    generation: int = 0

    @cached_property
    def digest(self) -> int:
        return fingerprint(orjson.dumps([self.list_id, self.generation]))

    def ids(self) -> dict[str, tuple[str, str]]:
        return {name: (field.id, field.type) for name, field in self.custom_fields.items()}


class UnknownCustomFieldsError(ValueError):
    def __init__(self, unknown: Sequence[str], available: Sequence[str]) -> None:
        self.unknown = list(unknown)
        self.available = list(available)
        super().__init__(
            f"custom field(s) {', '.join(self.unknown)} do not exist in SendGrid; "
            f"available: {', '.join(self.available) or '(none)'}. Create them in SendGrid "
            "(Marketing > Custom Fields) or fix spec.mapping.custom_fields"
        )


def bind_fields(
    list_id: str, wanted: Sequence[str], definitions: Mapping[str, CustomField]
) -> FieldBinding:
    """Resolve custom field names (case-insensitively, as SendGrid does) to ids and types."""
    by_lower = {name.lower(): (name, field) for name, field in definitions.items()}
    unknown = [name for name in wanted if name.lower() not in by_lower]
    if unknown:
        raise UnknownCustomFieldsError(unknown, sorted(definitions))
    return FieldBinding(list_id, {name: by_lower[name.lower()][1] for name in wanted})


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_US_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$")


def _typed(value: str, field: CustomField) -> str | int | float:
    if value == "" or field.type == "Text":
        return value
    if field.type == "Number":
        number = float(value)
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        return int(number) if number.is_integer() and "e" not in value.lower() else number
    if field.type == "Date":
        if _US_DATE.match(value):
            datetime.strptime(value, "%m/%d/%Y")
        elif _ISO_DATE.match(value):
            if len(value) == 10:
                date.fromisoformat(value)
            else:
                datetime.fromisoformat(value)
        else:
            raise ValueError("not a date (YYYY-MM-DD, an ISO 8601 timestamp or MM/DD/YYYY)")
        return value
    return value


# Plain ASCII addresses that email-validator certainly accepts: letters, digits and
# `_+-` in dot-separated local atoms; a host of LDH labels under a letters-only top-level
# domain. Anything else (quotes, IDNs, odd characters, reserved names) takes the full
# check. A test feeds both the same addresses to keep the shortcut a subset.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)


def plainly_valid(email: str) -> bool:
    if len(email) > 254 or not _PLAIN_EMAIL.fullmatch(email):
        return False
    local, _, domain = email.partition("@")
    if len(local) > 64 or "xn--" in domain:
        return False
    return domain.rpartition(".")[2] not in SPECIAL_USE_DOMAIN_NAMES


class Outgoing:
    """Turns staged payloads into what SendGrid receives, rejecting what it would refuse."""

    def __init__(self, binding: FieldBinding, mapping: FieldMapping) -> None:
        self.binding = binding
        self._blank = {field: "" for field in mapping.reserved() if field != "email"}

    def encode(self, payload: bytes) -> bytes | str:
        contact: dict[str, Any] = self._blank | orjson.loads(payload)
        if not plainly_valid(contact["email"]):
            try:
                validate_email(
                    contact["email"],
                    check_deliverability=False,
                    allow_smtputf8=False,
                    allow_quoted_local=False,
                    allow_domain_literal=False,
                )
            except EmailNotValidError as error:
                return f"email is not a valid address: {error}"
        values = contact.pop("custom_fields", {})
        if self.binding.custom_fields:
            by_id: dict[str, str | int | float] = {}
            for name, field in self.binding.custom_fields.items():
                try:
                    by_id[field.id] = _typed(values.get(name, ""), field)
                except ValueError:
                    return f"custom field {name} ({field.type}): value is not a valid {field.type}"
            contact["custom_fields"] = by_id
        return _compact(orjson.dumps(contact))
