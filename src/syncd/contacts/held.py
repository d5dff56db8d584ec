"""What an audit asks of the mapping: the fields it sends, and the fingerprint a contact
SendGrid shows would have if syncd had built it (`ContactBuilder` inherits these)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from syncd.contacts.fingerprints import fingerprint


class HeldPrints:
    _reserved: tuple[tuple[str, int, int | None], ...]
    _custom: tuple[tuple[str, int], ...]

    @property
    def mapped_names(self) -> frozenset[str]:
        """The names of the fields this mapping sends (reserved and custom), lower-cased:
        all an audit needs of what SendGrid shows."""
        names = [field for field, _, _ in self._reserved] + [name for name, _ in self._custom]
        return frozenset(name.lower() for name in names)

    def held_print(self, email: str, held: Mapping[str, Any]) -> int:
        """The fingerprint `build` gives a contact whose mapped values are exactly those
        SendGrid shows (`held`: reserved fields by name, `custom_fields` by name), in the
        same shape and order. Equal to an acknowledged fingerprint, SendGrid holds that
        contact byte for byte as sent; any other spelling (a number as `5.0`, a space, a
        name in another case) differs, and is compared field by field instead."""
        payload: dict[str, Any] = {"email": email}
        for field, _, _ in self._reserved:
            if value := held.get(field):
                payload[field] = value
        custom_held = held.get("custom_fields")
        if self._custom and isinstance(custom_held, Mapping):
            custom = {name: value for name, _ in self._custom if (value := custom_held.get(name))}
            if custom:
                payload["custom_fields"] = custom
        try:
            return fingerprint(orjson.dumps(payload))
        except TypeError:  # a value orjson cannot write: never equal to a built payload
            return 0

    def held_printer(
        self, reserved: Mapping[str, int], custom: Mapping[str, int]
    ) -> Callable[[str, Sequence[str]], int]:
        """`held_print` for rows of text cells, compiled once per file: `reserved` and
        `custom` give the cell of each field SendGrid shows, by its name (a custom field's
        as SendGrid shows it); a blank cell is a field not shown."""
        fields = tuple(
            (field, reserved[field]) for field, _, _ in self._reserved if field in reserved
        )
        named = tuple((name, custom[name]) for name, _ in self._custom if name in custom)

        def printed(email: str, cells: Sequence[str]) -> int:
            payload: dict[str, Any] = {"email": email}
            for field, at in fields:
                if value := cells[at]:
                    payload[field] = value
            if named:
                found = {name: value for name, at in named if (value := cells[at])}
                if found:
                    payload["custom_fields"] = found
            return fingerprint(orjson.dumps(payload))

        return printed
