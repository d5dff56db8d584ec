"""Putting seed data in the store, and reading seed files and the command line's shorthands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from syncd.emulator.config import ContactSeed, FieldSeed, ListSeed, RateBudget, Seed
from syncd.emulator.contact_checks import ContactChanges, check_contact
from syncd.emulator.profiles import Behaviour
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


def parse_list_flag(text: str) -> ListSeed:
    """`--list NAME` or `--list ID=NAME`."""
    list_id, sep, name = text.partition("=")
    return ListSeed(id=list_id, name=name) if sep else ListSeed(name=text)


def parse_field_flag(text: str) -> FieldSeed:
    """`--field NAME:Text|Number|Date`."""
    name, sep, field_type = text.rpartition(":")
    if not sep:
        raise ValueError(f"expected NAME:Text|Number|Date, got {text!r}")
    return FieldSeed.model_validate({"name": name, "field_type": field_type})


def parse_api_key_flag(text: str, all_scopes: frozenset[str]) -> tuple[str, frozenset[str]]:
    """`--api-key KEY` (every scope) or `--api-key KEY=scope,scope`."""
    key, sep, scopes = text.partition("=")
    if not key:
        raise ValueError("an API key must not be empty")
    if not sep:
        return key, all_scopes
    return key, frozenset(scope.strip() for scope in scopes.split(",") if scope.strip())


def parse_knob_flag(text: str) -> tuple[str, object]:
    """`--knob NAME=VALUE`; the value is read as YAML (`30`, `true`, `null`, `Email Address`)."""
    name, sep, value = text.partition("=")
    if not sep or name not in Behaviour.model_fields:
        known = ", ".join(Behaviour.model_fields)
        raise ValueError(f"expected --knob NAME=VALUE with NAME one of {known}; got {text!r}")
    return name, yaml.safe_load(value) if value else ""


def parse_rate_flag(text: str) -> RateBudget:
    """`N/WINDOW`: N requests per WINDOW seconds, e.g. `600/60`."""
    limit, sep, window = text.partition("/")
    if not sep:
        raise ValueError(f"expected N/WINDOW, got {text!r}")
    return RateBudget(limit=int(limit), window=float(window))
