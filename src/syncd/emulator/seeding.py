"""Putting seed data in the store, and reading seed files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from syncd.emulator.config import ContactSeed, Seed
from syncd.emulator.contact_checks import ContactChanges, check_contact
from syncd.emulator.store import Store
from syncd.emulator.validation import InvalidRequestError


def apply_seed(store: Store, seed: Seed) -> None:
    """Adds the seed's lists, custom fields and contacts; InvalidRequestError on a conflict.

    Seeded contacts were in the account all along: search finds them at once.
    """
    with store.unwatched():
        _apply_seed(store, seed)


def _apply_seed(store: Store, seed: Seed) -> None:
    for list_seed in seed.lists:
        store.add_list(list_seed.name, list_seed.id)
    for field_seed in seed.custom_fields:
        store.add_custom_field(field_seed.name, field_seed.field_type, field_seed.id)
    for index, contact_seed in enumerate(seed.contacts):
        changes = _contact_changes(store, contact_seed, f"contacts[{index}]")
        unknown = [list_id for list_id in contact_seed.list_ids if list_id not in store.lists]
        if unknown:
            where = f"contacts[{index}].list_ids"
            raise InvalidRequestError(f"unknown list ids: {unknown}", field=where)
        store.upsert(changes, contact_seed.list_ids)


def _contact_changes(store: Store, seed: ContactSeed, where: str) -> ContactChanges:
    custom: dict[str, object] = {}
    for key, value in seed.custom_fields.items():
        field_id = key if key in store.custom_fields else _field_id(store, key)
        custom[field_id] = value
    contact: dict[str, object] = {**seed.fields, "email": seed.email, "custom_fields": custom}
    if seed.alternate_emails:
        contact["alternate_emails"] = seed.alternate_emails
    # Seeds are what the account already holds, whatever rules the API applies now.
    checked = check_contact(contact, store.field_types(), "lenient")
    if isinstance(checked, list):
        problem = checked[0]
        field = f"{where}.{problem.field}" if problem.field else where
        raise InvalidRequestError(problem.message, field=field)
    return checked


def _field_id(store: Store, name: str) -> str:
    try:
        return store.field_id(name)
    except KeyError:
        raise InvalidRequestError(f"unknown custom field {name!r}", field="custom_fields") from None


def read_seed_file(path: Path) -> dict[str, Any]:
    """The raw mapping of a seed YAML file; the config model validates it."""
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: a seed file must be a mapping")
    return loaded
