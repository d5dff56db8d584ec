"""Checks on what clients send: the email rule, the shape of an upsert, one contact's values.

Two kinds of failure, as SendGrid has them: a malformed request is refused whole with a 400
(`InvalidRequestError`), while a well-formed contact with bad values is only rejected inside its
job and listed in the job's errors file (`check_contact` returns the reason).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from syncd.emulator import rules

CustomValue = str | int | float

_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
_TLD = re.compile(r"[A-Za-z]{2,}")
_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_IDENTIFIERS = ("email", "phone_number_id", "external_id", "anonymous_id")


class InvalidRequestError(Exception):
    """The whole request is refused; the status and message go back as SendGrid errors."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


def normalize_email(raw: str) -> str:
    return raw.strip().lower()


def is_valid_email(email: str) -> bool:
    """The emulator's one email rule (SendGrid's grammar is undocumented, §11 q7).

    Takes an already trimmed, lower-cased address: at most 254 characters; a local part of
    at most 64 atom characters with no leading, trailing or doubled dot; a domain of at
    least two labels of letters, digits and inner hyphens (each at most 63 long), the last
    of at least two letters. Quoted local parts, IP literals and IDNs are refused.
    """
    if len(email) > rules.EMAIL_MAX_LENGTH or email.count("@") != 1:
        return False
    local, domain = email.split("@")
    if not 0 < len(local) <= rules.EMAIL_LOCAL_MAX_LENGTH or not _LOCAL_PART.fullmatch(local):
        return False
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    labels = domain.split(".")
    if len(labels) < 2:
        return False
    if not all(len(label) <= 63 and _DOMAIN_LABEL.fullmatch(label) for label in labels):
        return False
    return _TLD.fullmatch(labels[-1]) is not None


@dataclass(frozen=True)
class UpsertRequest:
    list_ids: list[str]
    contacts: list[dict[str, object]]


def parse_upsert(body: object) -> UpsertRequest:
    """The request-level checks of `PUT /v3/marketing/contacts`; values are checked per contact."""
    if not isinstance(body, dict):
        raise InvalidRequestError("request body must be a JSON object")
    list_ids = body.get("list_ids", [])
    if not isinstance(list_ids, list) or not all(isinstance(i, str) for i in list_ids):
        raise InvalidRequestError("list_ids must be an array of strings", field="list_ids")
    contacts = body.get("contacts")
    if not isinstance(contacts, list) or not contacts:
        raise InvalidRequestError("at least one contact is required", field="contacts")
    if len(contacts) > rules.MAX_CONTACTS_PER_UPSERT:
        raise InvalidRequestError(
            f"too many contacts: {len(contacts)}, the limit is {rules.MAX_CONTACTS_PER_UPSERT}",
            field="contacts",
        )
    unknown = set(body) - {"list_ids", "contacts"}
    if unknown:
        raise InvalidRequestError(f"unknown property: {sorted(unknown)[0]}")
    for index, contact in enumerate(contacts):
        _check_contact_shape(contact, f"contacts[{index}]")
    return UpsertRequest(list_ids=list(list_ids), contacts=contacts)


def _check_contact_shape(contact: object, where: str) -> None:
    if not isinstance(contact, dict):
        raise InvalidRequestError("a contact must be a JSON object", field=where)
    for key, value in contact.items():
        if key in rules.CONTACT_TEXT_FIELDS:
            if not isinstance(value, str):
                raise InvalidRequestError("must be a string", field=f"{where}.{key}")
        elif key in rules.CONTACT_LIST_FIELDS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InvalidRequestError("must be an array of strings", field=f"{where}.{key}")
        elif key == "custom_fields":
            if not isinstance(value, dict):
                raise InvalidRequestError("invalid input", field=f"{where}.custom_fields")
            for field_id, field_value in value.items():
                if not _is_custom_value(field_value):
                    where_value = f"{where}.custom_fields.{field_id}"
                    raise InvalidRequestError("invalid input", field=where_value)
        else:
            raise InvalidRequestError("unknown field", field=f"{where}.{key}")
    if not any(contact.get(identifier) for identifier in _IDENTIFIERS):
        raise InvalidRequestError(
            "at least one of email, phone_number_id, external_id or anonymous_id is required",
            field=where,
        )


def _is_custom_value(value: object) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class ContactChanges:
    """What one accepted contact changes; an empty string clears a field."""

    email: str
    fields: dict[str, str] = field(default_factory=dict)
    alternate_emails: list[str] | None = None
    custom_fields: dict[str, CustomValue] = field(default_factory=dict)


def check_contact(
    contact: Mapping[str, object], field_types: Mapping[str, str]
) -> ContactChanges | str:
    """Checks one shape-valid contact against the account; returns its changes or why not."""
    raw_email = contact.get("email")
    if not isinstance(raw_email, str) or not raw_email:
        return "email is required: the emulator keys contacts by email"
    email = normalize_email(raw_email)
    if not is_valid_email(email):
        return "invalid email"
    fields: dict[str, str] = {}
    for name in rules.CONTACT_TEXT_FIELDS:
        value = contact.get(name)
        if name == "email" or not isinstance(value, str):
            continue
        limit = rules.FIELD_MAX_LENGTHS.get(name)
        if limit is not None and len(value) > limit:
            return f"{name} exceeds the maximum length of {limit}"
        fields[name] = value
    alternates = _check_alternates(contact.get("alternate_emails"))
    if isinstance(alternates, str):
        return alternates
    custom = _check_custom_fields(contact.get("custom_fields"), field_types)
    if isinstance(custom, str):
        return custom
    return ContactChanges(
        email=email, fields=fields, alternate_emails=alternates, custom_fields=custom
    )


def _check_alternates(value: object) -> list[str] | str | None:
    if not isinstance(value, list):
        return None
    if len(value) > rules.MAX_ALTERNATE_EMAILS:
        return f"alternate_emails has more than {rules.MAX_ALTERNATE_EMAILS} items"
    alternates = [normalize_email(str(v)) for v in value]
    for alternate in alternates:
        if not is_valid_email(alternate):
            return "invalid alternate email"
    return alternates


def _check_custom_fields(
    value: object, field_types: Mapping[str, str]
) -> dict[str, CustomValue] | str:
    if not isinstance(value, dict):
        return {}
    unknown = [field_id for field_id in value if field_id not in field_types]
    if unknown:
        return "invalid custom field ids supplied - " + ",".join(unknown)
    checked: dict[str, CustomValue] = {}
    for field_id, raw in value.items():
        converted = convert_custom_value(raw, field_types[field_id])
        if converted is None:
            return f"invalid value for custom field {field_id}: expected a {field_types[field_id]}"
        checked[field_id] = converted
    return checked


def convert_custom_value(raw: object, field_type: str) -> CustomValue | None:
    """The stored form of a custom field value, or None when it does not fit the field's type."""
    if not _is_custom_value(raw):
        return None
    assert isinstance(raw, str | int | float)
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


def _number_text(number: int | float) -> str:
    return str(int(number)) if isinstance(number, float) and number.is_integer() else str(number)
