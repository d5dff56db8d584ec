"""Putting seed data in the store, and reading seed files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from syncd.emulator.config import Seed
from syncd.emulator.contact_checks import ContactChanges
from syncd.emulator.store import Store
from syncd.emulator.validation import InvalidRequestError, is_valid_email, normalize_email


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
        store.add_custom_field(field_seed.name, field_seed.field_type)
    for index, contact_seed in enumerate(seed.contacts):
        email = normalize_email(contact_seed.email)
        if not is_valid_email(email):
            raise InvalidRequestError("invalid email", field=f"contacts[{index}].email")
        unknown = [list_id for list_id in contact_seed.list_ids if list_id not in store.lists]
        if unknown:
            where = f"contacts[{index}].list_ids"
            raise InvalidRequestError(f"unknown list ids: {unknown}", field=where)
        store.upsert(ContactChanges(email=email), contact_seed.list_ids)


def read_seed_file(path: Path) -> dict[str, Any]:
    """The raw mapping of a seed YAML file; the config model validates it."""
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: a seed file must be a mapping")
    return loaded
