"""The last stage: staged payloads turned into the bytes SendGrid receives."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any

import orjson
from email_validator import EmailNotValidError, validate_email

from syncd.contacts.addresses import plainly_valid
from syncd.contacts.building import compact, fingerprint
from syncd.destinations import Mapping as FieldMapping


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
        return compact(orjson.dumps(contact))
