"""The last stage: staged payloads turned into the bytes SendGrid receives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final

import orjson

from syncd.contacts.addresses import refusal
from syncd.contacts.building import compact
from syncd.contacts.fingerprints import fingerprint
from syncd.contacts.values import CONVERTERS, Refused, Typed, text
from syncd.destinations import Mapping as FieldMapping

# How Date values are sent, recorded with each Date field's id in the ledger (`ids`).
# Earlier versions recorded no format and sent dates as the source wrote them: their
# destinations with a Date field send their contacts once more, in this format.
DATE_FORMAT: Final = "MM/DD/YYYY"


@dataclass(frozen=True)
class CustomField:
    id: str
    type: str  # Text | Number | Date (FieldType in the custom fields spec)


@dataclass(frozen=True)
class FieldBinding:
    """What turns a staged payload into the bytes sent to one list.

    `generation` changes when a custom field used before got another id or type (see
    the ledger's `field_generation`): the digest, stored with every acknowledged
    contact, then differs and everyone is sent again. Mapping a new field does not.
    The "type" `ids` gives the ledger is the format values are sent in: a Date field's
    is `Date MM/DD/YYYY`, so a field whose dates were sent in another format (as earlier
    versions did) counts as changed, once.
    """

    list_id: str
    custom_fields: Mapping[str, CustomField]
    generation: int = 0

    @cached_property
    def digest(self) -> int:
        return _digest(self.list_id, self.generation)

    @cached_property
    def on_this_list(self) -> frozenset[int]:
        """The digests of this list's every generation: a contact acknowledged under one
        of them was put on this list by syncd (under another, on another list: `listId`
        changed since)."""
        return frozenset(_digest(self.list_id, g) for g in range(self.generation + 1))

    def ids(self) -> dict[str, tuple[str, str]]:
        return {name: (field.id, _format(field.type)) for name, field in self.custom_fields.items()}


def _digest(list_id: str, generation: int) -> int:
    return fingerprint(orjson.dumps([list_id, generation]))


def _format(field_type: str) -> str:
    return f"{field_type} {DATE_FORMAT}" if field_type == "Date" else field_type


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


class Outgoing:
    """Turns staged payloads into what SendGrid receives, or the reason it would refuse them.

    Custom values are typed here, where the field types are known: a blank Number or Date
    is left out (SendGrid refuses `""` there, or may), a blank Text goes out as `""`."""

    def __init__(self, binding: FieldBinding, mapping: FieldMapping) -> None:
        self.binding = binding
        self._blank = {field: "" for field in mapping.reserved() if field != "email"}
        self._custom = tuple(
            (name, field.id, field.type, CONVERTERS.get(field.type, text))
            for name, field in binding.custom_fields.items()
        )

    def encode(self, payload: bytes) -> bytes | str:
        """The bytes of this contact in an upsert body, or why it is refused. Never raises."""
        return self.encode_fields(orjson.loads(payload))

    def encode_fields(self, payload: Mapping[str, Any]) -> bytes | str:
        """`encode` of a payload not yet encoded (`Built.fields`); `payload` is left as it
        is."""
        contact: dict[str, Any] = {**self._blank, **payload}
        reason = refusal(contact["email"])
        if reason is not None:
            return reason
        values = contact.pop("custom_fields", {})
        if self._custom:
            by_id: dict[str, Typed] = {}
            for name, field_id, field_type, convert in self._custom:
                try:
                    value = convert(values.get(name, ""))
                except Refused as refused:
                    return f"custom field {name} ({field_type}): {refused}"
                if value is not None:
                    by_id[field_id] = value
            contact["custom_fields"] = by_id
        return compact(orjson.dumps(contact))
