"""Checks on what clients send: the email rule and the shape of an upsert.

A malformed request is refused whole with a 400 (`InvalidRequestError`) in every profile;
the values of well-formed contacts are checked by `contact_checks`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from syncd.emulator import rules
from syncd.emulator.values import is_custom_value

# One entry of SendGrid's `{"errors": [{"field": ..., "message": ...}]}`.
ErrorEntry = tuple[str | None, str]

_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
_TLD = re.compile(r"[A-Za-z]{2,}")
_IDENTIFIERS = ("email", "phone_number_id", "external_id", "anonymous_id")


class InvalidRequestError(Exception):
    """The whole request is refused; the status and message go back as SendGrid errors."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status
        self.errors: list[ErrorEntry] = [(field, message)]

    @classmethod
    def many(cls, errors: Sequence[ErrorEntry]) -> InvalidRequestError:
        """A 400 listing several problems, one `errors[]` entry each."""
        field, message = errors[0]
        refused = cls(message, field=field)
        refused.errors = list(errors)
        return refused


def normalize_email(raw: str) -> str:
    return raw.strip().lower()


def is_valid_email(email: str) -> bool:
    """The emulator's one email rule (SendGrid's grammar is undocumented).

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
    nulls: list[ErrorEntry] = []
    for index, contact in enumerate(contacts):
        _check_contact_shape(contact, f"contacts[{index}]", nulls)
    if nulls:
        raise InvalidRequestError.many(nulls)
    return UpsertRequest(list_ids=list(list_ids), contacts=contacts)


def _check_contact_shape(contact: object, where: str, nulls: list[ErrorEntry]) -> None:
    """Raises on the first malformed value; collects every null custom value (refused too,
    sendgrid/docs#6323) so that one answer names them all."""
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
                where_value = f"{where}.custom_fields.{field_id}"
                if field_value is None:
                    nulls.append((where_value, "a custom field value may not be null"))
                elif not is_custom_value(field_value):
                    raise InvalidRequestError("invalid input", field=where_value)
        else:
            raise InvalidRequestError("unknown field", field=f"{where}.{key}")
    if not any(contact.get(identifier) for identifier in _IDENTIFIERS):
        raise InvalidRequestError(
            "at least one of email, phone_number_id, external_id or anonymous_id is required",
            field=where,
        )
