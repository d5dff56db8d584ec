"""Hand edits: changes a marketer makes in SendGrid's UI, applied at once and without jobs.

They let tests create drift behind a client's back (for drift audits). They change the
account as jobs do, so search sees them only after `search_lag`. A batch is checked whole
before any of it is applied, each operation against the account as the earlier ones of
the batch leave it; a bad batch is a 400 naming the operation and field, and changes nothing.

    [{"op": "unlist", "list_id": "...", "emails": ["ann@example.com"]},
     {"op": "list", "list_id": "...", "emails": ["new@example.com"]},
     {"op": "set_fields", "emails": [...], "fields": {"first_name": "X"},
      "custom_fields": {"loyalty_tier": "gold", "orders": null}},
     {"op": "delete", "emails": [...]},
     {"op": "set_alternate_emails", "email": "...", "alternate_emails": ["a@work.example"]}]

`list` adds existing contacts to the list or creates bare ones on it. In `set_fields`, `""`
clears a reserved field and `null` clears a custom field (given by name); custom values follow
the current `custom_value_rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from syncd.emulator import rules
from syncd.emulator.contact_checks import ContactChanges
from syncd.emulator.profiles import ValueRules
from syncd.emulator.store import Store
from syncd.emulator.validation import InvalidRequestError, is_valid_email, normalize_email
from syncd.emulator.values import CustomValue, Refused, custom_value

_STRICT = ConfigDict(frozen=True, extra="forbid")
_Emails = Annotated[list[str], Field(min_length=1)]


class Unlist(BaseModel):
    model_config = _STRICT
    op: Literal["unlist"]
    list_id: str
    emails: _Emails


class AddToList(BaseModel):
    model_config = _STRICT
    op: Literal["list"]
    list_id: str
    emails: _Emails


class SetFields(BaseModel):
    model_config = _STRICT
    op: Literal["set_fields"]
    emails: _Emails
    fields: dict[str, str] = Field(default_factory=dict)
    custom_fields: dict[str, str | int | float | None] = Field(default_factory=dict)


class Delete(BaseModel):
    model_config = _STRICT
    op: Literal["delete"]
    emails: _Emails


class SetAlternateEmails(BaseModel):
    model_config = _STRICT
    op: Literal["set_alternate_emails"]
    email: str
    alternate_emails: list[str] = Field(max_length=rules.MAX_ALTERNATE_EMAILS)


HandEdit = Annotated[
    Unlist | AddToList | SetFields | Delete | SetAlternateEmails, Field(discriminator="op")
]
HAND_EDITS: TypeAdapter[list[HandEdit]] = TypeAdapter(list[HandEdit])
_SETTABLE_FIELDS = frozenset(rules.CONTACT_TEXT_FIELDS) - {"email"}


@dataclass(frozen=True)
class _Upsert:
    changes: ContactChanges
    list_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Unlist:
    list_id: str
    email: str


@dataclass(frozen=True)
class _Delete:
    email: str


_Action = _Upsert | _Unlist | _Delete


def apply_hand_edits(store: Store, edits: list[HandEdit], value_rules: ValueRules) -> None:
    """Checks the whole batch, then applies it; InvalidRequestError (400) names the problem."""
    existing = set(store.contacts)  # the contacts as the batch's earlier operations leave them
    actions: list[_Action] = []
    for index, edit in enumerate(edits):
        actions += _actions(store, f"[{index}]", edit, value_rules, existing)
    for action in actions:
        if isinstance(action, _Upsert):
            store.upsert(action.changes, action.list_ids)
        elif isinstance(action, _Unlist):
            store.remove_from_list(action.list_id, [store.contacts[action.email].id])
        else:
            store.delete_contacts([store.contacts[action.email].id])


def _actions(
    store: Store, where: str, edit: HandEdit, value_rules: ValueRules, existing: set[str]
) -> list[_Action]:
    if isinstance(edit, Unlist | AddToList) and edit.list_id not in store.lists:
        raise InvalidRequestError("no list has this id", field=f"{where}.list_id")
    if isinstance(edit, AddToList):
        emails = [_valid_email(raw, f"{where}.emails[{n}]") for n, raw in enumerate(edit.emails)]
        existing.update(emails)
        return [_Upsert(ContactChanges(email=email), (edit.list_id,)) for email in emails]
    if isinstance(edit, SetAlternateEmails):
        email = _existing(edit.email, f"{where}.email", existing)
        alternates = [
            _valid_email(raw, f"{where}.alternate_emails[{n}]")
            for n, raw in enumerate(edit.alternate_emails)
        ]
        return [_Upsert(ContactChanges(email=email, alternate_emails=alternates))]
    emails = [_existing(raw, f"{where}.emails[{n}]", existing) for n, raw in enumerate(edit.emails)]
    if isinstance(edit, Unlist):
        return [_Unlist(edit.list_id, email) for email in emails]
    if isinstance(edit, Delete):
        existing.difference_update(emails)
        return [_Delete(email) for email in emails]
    fields = _reserved_fields(edit.fields, where)
    custom = _custom_fields(store, edit.custom_fields, where, value_rules)
    return [_Upsert(ContactChanges(email, fields=fields, custom_fields=custom)) for email in emails]


def _valid_email(raw: str, field: str) -> str:
    email = normalize_email(raw)
    if not is_valid_email(email):
        raise InvalidRequestError("invalid email", field=field)
    return email


def _existing(raw: str, field: str, existing: set[str]) -> str:
    email = normalize_email(raw)
    if email not in existing:
        raise InvalidRequestError("no contact has this email", field=field)
    return email


def _reserved_fields(fields: dict[str, str], where: str) -> dict[str, str]:
    for name, value in fields.items():
        field = f"{where}.fields.{name}"
        if name not in _SETTABLE_FIELDS:
            raise InvalidRequestError("not a field a hand edit can set", field=field)
        limit = rules.FIELD_MAX_LENGTHS.get(name)
        if limit is not None and len(value) > limit:
            raise InvalidRequestError(f"longer than {limit} characters", field=field)
    return fields


def _custom_fields(
    store: Store,
    values: dict[str, CustomValue | None],
    where: str,
    value_rules: ValueRules,
) -> dict[str, CustomValue]:
    """Custom values by field id; `""` (clear) for null."""
    checked: dict[str, CustomValue] = {}
    for name, raw in values.items():
        field = f"{where}.custom_fields.{name}"
        try:
            field_id = store.field_id(name)
        except KeyError:
            raise InvalidRequestError("no custom field has this name", field=field) from None
        if raw is None:
            checked[field_id] = ""
            continue
        converted = custom_value(raw, store.custom_fields[field_id].field_type, value_rules)
        if isinstance(converted, Refused):
            raise InvalidRequestError(converted.reason, field=field)
        checked[field_id] = converted
    return checked
