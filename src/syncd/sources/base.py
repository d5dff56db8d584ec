"""What every source offers: rows projected onto the columns the mapping needs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from syncd.errors import SourceInvalid

# How many rows a reader fetches at a time: large enough to amortise calls,
# small enough that memory stays flat whatever the segment's size.
FETCH_ROWS = 5000


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row the source could not decode; it is rejected, the rest goes on."""

    reason: str


Row = tuple[int, Sequence[Any] | BadRow]
"""(row number, the values in the order of the requested columns, or why not)."""


class RowSource(Protocol):
    """A readable segment. Iterating streams; nothing is held beyond one fetch."""

    description: str

    def rows(self, columns: Sequence[str]) -> Iterator[Row]: ...


def project(available: Sequence[str], wanted: Sequence[str], where: str) -> list[int]:
    """Positions of the wanted columns, or a clear error naming what exists."""
    positions = {name: i for i, name in enumerate(available)}
    missing = [name for name in wanted if name not in positions]
    if missing:
        raise SourceInvalid(
            f"{where}: column(s) {', '.join(missing)} not found; the source has: "
            f"{', '.join(available) or '(no columns)'}. Fix spec.mapping or the source"
        )
    return [positions[name] for name in wanted]
