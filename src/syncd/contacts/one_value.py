"""A field takes one value: a list or an object is refused for it, never sent as text.

Such values come from a JSON array or object, a JSON key written twice (the JSON Lines
reader gives all its values), or a PostgreSQL array. Their text would be Python's
spelling of them (`['a', 'b']`); refused, the row keeps its address, so a contact already
on the list stays as SendGrid has it.
"""

from __future__ import annotations

from typing import Any


class NotOneValue(Exception):
    """Raised where a value is read as one field's text."""


def is_many(value: Any) -> bool:
    return isinstance(value, list | tuple | dict)


def refusal(field: str) -> str:
    return f"{field} holds more than one value (a list, an object, or its key written twice)"
