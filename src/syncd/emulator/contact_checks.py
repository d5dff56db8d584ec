"""One contact's values checked against the account: its changes, or every problem with them.

Both ways SendGrid can refuse bad values use these checks: inside the job, where the first
problem becomes the contact's row in the errors file (`bad_values: in_job`), and up front,
where every problem of every contact refuses the whole upsert (`bad_values: upfront`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from syncd.emulator import rules
from syncd.emulator.profiles import ValueRules
from syncd.emulator.validation import ErrorEntry, is_valid_email, normalize_email
from syncd.emulator.values import CustomValue, Refused, custom_value


@dataclass(frozen=True)
class Problem:
    """`field` is relative to the contact (`email`, `custom_fields.e2_N`); None blames none."""

    field: str | None
    message: str


@dataclass(frozen=True)
class ContactChanges:
    """What one accepted contact changes; an empty string clears a field."""

    email: str
    fields: dict[str, str] = field(default_factory=dict)
    alternate_emails: list[str] | None = None
    custom_fields: dict[str, CustomValue] = field(default_factory=dict)


def check_contact(
    contact: Mapping[str, object], field_types: Mapping[str, str], value_rules: ValueRules
) -> ContactChanges | list[Problem]:
    """Checks one shape-valid contact against the account; its changes or its problems."""
    problems: list[Problem] = []
    raw_email = contact.get("email")
    email = normalize_email(raw_email) if isinstance(raw_email, str) else ""
    if not email:
        problems.append(Problem("email", "email is required: the emulator keys contacts by email"))
    elif not is_valid_email(email):
        problems.append(Problem("email", "invalid email"))
    fields: dict[str, str] = {}
    for name in rules.CONTACT_TEXT_FIELDS:
        value = contact.get(name)
        if name == "email" or not isinstance(value, str):
            continue
        limit = rules.FIELD_MAX_LENGTHS.get(name)
        if limit is not None and len(value) > limit:
            problems.append(Problem(name, f"{name} exceeds the maximum length of {limit}"))
        fields[name] = value
    alternates = _check_alternates(contact.get("alternate_emails"), problems)
    custom = _check_custom_fields(contact.get("custom_fields"), field_types, value_rules, problems)
    if problems:
        return problems
    return ContactChanges(
        email=email, fields=fields, alternate_emails=alternates, custom_fields=custom
    )


def upfront_errors(
    contacts: Sequence[Mapping[str, object]],
    field_types: Mapping[str, str],
    value_rules: ValueRules,
) -> list[ErrorEntry]:
    """Every problem of an upsert, as SendGrid refuses a request whole.

    Unknown custom field ids come alone and blame no contact, as SendGrid answers them
    (sendgrid-nodejs#953): a client has to find the culprit itself.
    """
    unknown = unknown_field_ids(contacts, field_types)
    if unknown:
        return [(None, unknown_ids_message(unknown))]
    errors: list[ErrorEntry] = []
    for index, contact in enumerate(contacts):
        checked = check_contact(contact, field_types, value_rules)
        if isinstance(checked, list):
            errors += [(_path(index, problem.field), problem.message) for problem in checked]
    return errors


def unknown_field_ids(
    contacts: Sequence[Mapping[str, object]], field_types: Mapping[str, str]
) -> list[str]:
    """The custom field ids the account does not have, in order of first appearance."""
    unknown: dict[str, None] = {}
    for contact in contacts:
        custom = contact.get("custom_fields")
        if isinstance(custom, dict):
            unknown.update((field_id, None) for field_id in custom if field_id not in field_types)
    return list(unknown)


def unknown_ids_message(field_ids: Sequence[str]) -> str:
    return "invalid custom field ids supplied - " + ",".join(field_ids)


def _path(index: int, field_name: str | None) -> str:
    return f"contacts[{index}]" + (f".{field_name}" if field_name else "")


def _check_alternates(value: object, problems: list[Problem]) -> list[str] | None:
    if not isinstance(value, list):
        return None
    if len(value) > rules.MAX_ALTERNATE_EMAILS:
        message = f"alternate_emails has more than {rules.MAX_ALTERNATE_EMAILS} items"
        problems.append(Problem("alternate_emails", message))
    alternates = [normalize_email(str(v)) for v in value]
    if not all(is_valid_email(alternate) for alternate in alternates):
        problems.append(Problem("alternate_emails", "invalid alternate email"))
    return alternates


def _check_custom_fields(
    value: object,
    field_types: Mapping[str, str],
    value_rules: ValueRules,
    problems: list[Problem],
) -> dict[str, CustomValue]:
    if not isinstance(value, dict):
        return {}
    unknown = [field_id for field_id in value if field_id not in field_types]
    if unknown:
        problems.append(Problem(None, unknown_ids_message(unknown)))
    checked: dict[str, CustomValue] = {}
    for field_id, raw in value.items():
        if field_id in unknown:
            continue
        converted = custom_value(raw, field_types[field_id], value_rules)
        if isinstance(converted, Refused):
            message = f"invalid value for custom field {field_id}: {converted.reason}"
            problems.append(Problem(f"custom_fields.{field_id}", message))
        else:
            checked[field_id] = converted
    return checked
