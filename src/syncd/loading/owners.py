"""One name, one destination; one list, one owner: who may claim what.

Two destinations with one `metadata.name` would share a ledger, and two destinations
targeting one SendGrid list would remove each other's contacts. Both clashes are found
here, for the two places that must refuse them: loading (two files of one catalog,
both refused: neither may win silently) and watching (a valid file against the last good
version of a broken one: the valid file wins). A list is the same list whatever case its
id is written in: the destination model lower-cases list ids (SendGrid's are UUIDs).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from syncd.destinations import Destination

Claimed = Literal["name", "list"]


@dataclass(frozen=True)
class Clash:
    """The destination of file `key` claims a name or a list that `others` claim too."""

    key: str
    claimed: Claimed
    value: str
    """The name, or the list id."""
    others: tuple[str, ...]


def _claims(definition: Destination) -> tuple[tuple[Claimed, str], ...]:
    return (("name", definition.name), ("list", definition.spec.sendgrid.list_id))


def every_clash(claimants: Iterable[tuple[str, Destination]]) -> Iterator[Clash]:
    """Each file (keyed) that shares a name or a list with another, once per clash: all of
    them, for none may win silently. Names first, then lists, each in the claimants' order."""
    groups: dict[Claimed, defaultdict[str, list[str]]] = {
        "name": defaultdict(list),
        "list": defaultdict(list),
    }
    for key, definition in claimants:
        for claimed, value in _claims(definition):
            groups[claimed][value].append(key)
    for claimed, by_value in groups.items():
        for value, keys in by_value.items():
            if len(keys) < 2:
                continue
            for key in keys:
                others = tuple(other for other in keys if other != key)
                yield Clash(key, claimed, value, others)


class FirstClaimWins:
    """Claims made in order of precedence: a later claim to a taken name or list loses."""

    def __init__(self) -> None:
        self._holders: dict[tuple[Claimed, str], str] = {}

    def claim(self, key: str, definition: Destination) -> Clash | None:
        """Grant the destination of file `key` its name and its list, or say which one is
        already held, and by whom (then nothing is granted)."""
        claims = _claims(definition)
        for claimed, value in claims:
            holder = self._holders.get((claimed, value))
            if holder is not None:
                return Clash(key, claimed, value, (holder,))
        for claimed, value in claims:
            self._holders[(claimed, value)] = key
        return None
