"""The emulated account: contacts keyed by lower-cased email, lists, custom field definitions."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TypeVar

from syncd.emulator import rules
from syncd.emulator.contact_checks import ContactChanges
from syncd.emulator.validation import InvalidRequestError
from syncd.emulator.values import CustomValue

_V = TypeVar("_V", str, CustomValue)
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESERVED_NAMES = frozenset(name for _, name, _, _ in rules.RESERVED_FIELDS) | frozenset(
    rules.CONTACT_TEXT_FIELDS
)


def iso_timestamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Contact:
    id: str
    email: str
    created_at: str
    updated_at: str
    fields: dict[str, str] = field(default_factory=dict)
    alternate_emails: list[str] = field(default_factory=list)
    custom_fields: dict[str, CustomValue] = field(default_factory=dict)


@dataclass
class ContactList:
    id: str
    name: str
    members: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class CustomField:
    id: str
    name: str
    field_type: str


class Store:
    """In-memory state. Mutations happen when jobs are applied, by hand edits and by seeding."""

    def __init__(self, wall_clock: Callable[[], float]) -> None:
        self._wall_clock = wall_clock
        self.contacts: dict[str, Contact] = {}
        self.lists: dict[str, ContactList] = {}
        self.custom_fields: dict[str, CustomField] = {}
        self._email_by_id: dict[str, str] = {}
        self._email_by_alternate: dict[str, str] = {}
        self._field_numbers = 0
        # Called with the emails whose search result a change is about to alter, before it.
        self.before_change: Callable[[set[str]], None] | None = None

    # --- reading, for handlers and for tests ---------------------------------------------

    def list_members(self, list_id: str) -> set[str]:
        """The lower-cased emails on a list (empty for an unknown list)."""
        found = self.lists.get(list_id)
        return set(found.members) if found else set()

    def contact(self, email: str) -> dict[str, object] | None:
        """A contact's stored values: reserved fields, custom fields by id, ids and lists."""
        found = self.contacts.get(email.strip().lower())
        if found is None:
            return None
        return {
            "id": found.id,
            "email": found.email,
            **found.fields,
            "alternate_emails": list(found.alternate_emails),
            "custom_fields": dict(found.custom_fields),
            "list_ids": self.list_ids_of(found.email),
            "created_at": found.created_at,
            "updated_at": found.updated_at,
        }

    def find(self, email: str) -> Contact | None:
        """The contact whose primary or alternate email this is."""
        primary = email if email in self.contacts else self._email_by_alternate.get(email)
        return self.contacts.get(primary) if primary else None

    def by_id(self, contact_id: str) -> Contact | None:
        email = self._email_by_id.get(contact_id)
        return self.contacts.get(email) if email else None

    def list_ids_of(self, email: str) -> list[str]:
        return [found.id for found in self.lists.values() if email in found.members]

    def field_id(self, name: str) -> str:
        """The id of a custom field by name, e.g. `e1_T`; KeyError when there is none."""
        for custom in self.custom_fields.values():
            if custom.name.lower() == name.lower():
                return custom.id
        raise KeyError(name)

    def field_types(self) -> dict[str, str]:
        return {custom.id: custom.field_type for custom in self.custom_fields.values()}

    # --- seeding and creation ------------------------------------------------------------

    def add_list(self, name: str, list_id: str | None = None) -> ContactList:
        if not 0 < len(name) <= rules.MAX_LIST_NAME:
            raise InvalidRequestError(
                f"name must be 1 to {rules.MAX_LIST_NAME} characters", field="name"
            )
        if any(existing.name == name for existing in self.lists.values()):
            raise InvalidRequestError("a list with this name already exists", field="name")
        new_id = str(uuid.UUID(list_id)) if list_id else str(uuid.uuid4())
        if new_id in self.lists:
            raise InvalidRequestError("a list with this id already exists", field="id")
        created = ContactList(id=new_id, name=name)
        self.lists[new_id] = created
        return created

    def add_custom_field(self, name: str, field_type: str) -> CustomField:
        if not 0 < len(name) <= rules.MAX_FIELD_NAME or not _FIELD_NAME.fullmatch(name):
            raise InvalidRequestError(
                "name must be 1 to 100 letters, digits or underscores, not starting with a digit",
                field="name",
            )
        if name.lower() in _RESERVED_NAMES:
            raise InvalidRequestError("name is a reserved field name", field="name")
        if any(existing.name.lower() == name.lower() for existing in self.custom_fields.values()):
            raise InvalidRequestError("a custom field with this name already exists", field="name")
        if field_type not in rules.FIELD_TYPE_SUFFIX:
            raise InvalidRequestError("field_type must be Text, Number or Date", field="field_type")
        if len(self.custom_fields) >= rules.MAX_CUSTOM_FIELDS:
            limit = rules.MAX_CUSTOM_FIELDS
            raise InvalidRequestError(f"an account has at most {limit} custom fields")
        self._field_numbers += 1
        new_id = f"e{self._field_numbers}_{rules.FIELD_TYPE_SUFFIX[field_type]}"
        created = CustomField(id=new_id, name=name, field_type=field_type)
        self.custom_fields[new_id] = created
        return created

    def delete_list(self, list_id: str) -> list[str] | None:
        """Deletes a list (its contacts stay); the ids of its members, or None if unknown."""
        found = self.lists.get(list_id)
        if found is None:
            return None
        for email in found.members:
            self._changing(email)
        del self.lists[list_id]
        return [self.contacts[email].id for email in sorted(found.members)]

    def delete_custom_field(self, field_id: str) -> bool:
        """Deletes a custom field and every value contacts held in it; False if unknown."""
        if field_id not in self.custom_fields:
            return False
        holders = [c for c in self.contacts.values() if field_id in c.custom_fields]
        for holder in holders:
            self._changing(holder.email)
            kept = {k: v for k, v in holder.custom_fields.items() if k != field_id}
            self.contacts[holder.email] = replace(holder, custom_fields=kept)
        del self.custom_fields[field_id]
        return True

    # --- applying jobs and hand edits ---------------------------------------------------
    #
    # A changed contact is a new Contact object, never one changed in place, so that what
    # search or an export holds on to keeps showing the contact as it was.

    @contextlib.contextmanager
    def unwatched(self) -> Iterator[None]:
        """Changes made here (seeding) are not reported to `before_change`."""
        watcher, self.before_change = self.before_change, None
        try:
            yield
        finally:
            self.before_change = watcher

    def upsert(self, changes: ContactChanges, list_ids: Iterable[str]) -> bool:
        """Merges one contact in; omitted fields stay, empty ones clear. True when created."""
        now = iso_timestamp(self._wall_clock())
        found = self.contacts.get(changes.email)
        self._changing(changes.email, *(changes.alternate_emails or ()))
        if found is None:
            found = Contact(
                id=str(uuid.uuid4()), email=changes.email, created_at=now, updated_at=now
            )
            self._email_by_id[found.id] = found.email
        alternates = found.alternate_emails
        if changes.alternate_emails is not None:
            for alternate in alternates:
                self._email_by_alternate.pop(alternate, None)
            alternates = list(changes.alternate_emails)
            for alternate in alternates:
                self._email_by_alternate[alternate] = found.email
        created = found.email not in self.contacts
        self.contacts[found.email] = Contact(
            id=found.id,
            email=found.email,
            created_at=found.created_at,
            updated_at=now,
            fields=_merged(found.fields, changes.fields),
            alternate_emails=alternates,
            custom_fields=_merged(found.custom_fields, changes.custom_fields),
        )
        for list_id in list_ids:
            if list_id in self.lists:
                self.lists[list_id].members.add(found.email)
        return created

    def delete_contacts(self, contact_ids: Iterable[str]) -> int:
        deleted = 0
        for contact_id in contact_ids:
            email = self._email_by_id.get(contact_id)
            if email is None:
                continue
            self._changing(email)
            del self._email_by_id[contact_id]
            gone = self.contacts.pop(email)
            for alternate in gone.alternate_emails:
                self._email_by_alternate.pop(alternate, None)
            for contact_list in self.lists.values():
                contact_list.members.discard(email)
            deleted += 1
        return deleted

    def all_contact_ids(self) -> list[str]:
        return list(self._email_by_id)

    def remove_from_list(self, list_id: str, contact_ids: Iterable[str]) -> int:
        contact_list = self.lists.get(list_id)
        if contact_list is None:
            return 0
        removed = 0
        for contact_id in contact_ids:
            email = self._email_by_id.get(contact_id)
            if email is not None and email in contact_list.members:
                self._changing(email)
                contact_list.members.discard(email)
                removed += 1
        return removed

    def _changing(self, email: str, *more: str) -> None:
        """Tells the watcher which searched emails are about to find something else."""
        if self.before_change is None:
            return
        found = self.contacts.get(email)
        self.before_change({email, *more, *(found.alternate_emails if found else ())})


def _merged(stored: Mapping[str, _V], changes: Mapping[str, _V]) -> dict[str, _V]:
    merged = dict(stored)
    for key, value in changes.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
