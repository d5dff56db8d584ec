"""Who reconciles which destination: everything locally, or a share each with PostgreSQL
(`postgres_leases.py`)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol


class Leases(Protocol):
    def adjust(self, wanted: Sequence[str], busy: Collection[str]) -> set[str]:
        """Claim and release so this replica holds its share of `wanted`; returns what it
        holds. Never releases a name in `busy` (a run is in flight for it)."""
        ...

    def close(self) -> None: ...


class LocalLeases:
    """One process owns every destination (the SQLite ledger's flock makes sure)."""

    def adjust(self, wanted: Sequence[str], busy: Collection[str]) -> set[str]:
        del busy
        return set(wanted)

    def close(self) -> None:
        """Nothing is held."""
