"""What every source offers: rows projected onto the columns the mapping needs.

Source data is untrusted: a message about it names the source, the line and the rule
broken, never the data itself (a secret read as a CSV file must not reach the status API).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from syncd.errors import SourceInvalid, SourceUnavailable

MAX_VALUE_BYTES = 64 * 1024
"""The longest value a database source may give (SQLite enforces it as its length
limit): SendGrid takes values of a kilobyte at most, and a query's one huge value once
took the daemon to gigabytes. SQLite's limit also bounds what one of its operations
costs, which no time limit can interrupt: `trim()` of a value against another's
characters is quadratic, a call over values of 1 MiB ran for minutes; at 64 KiB, about
a second."""

Stopping = Callable[[], bool]
"""The run's stop signal, polled by readers (from the worker thread that reads)."""


def never() -> bool:
    return False


def stopped(description: str) -> SourceUnavailable:
    """What a reader raises when the run's stop signal ends a read."""
    return SourceUnavailable(f"stopping: {description} was not read to the end")


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row the source could not decode; it is rejected, the rest goes on."""

    reason: str


Row = tuple[int, Sequence[Any] | BadRow]
"""(row number, the values in the order of the requested columns, or why not)."""
PrintedRow = tuple[int, Sequence[Any] | BadRow, int | None]
"""A `Row` and the record's own fingerprint (unsigned 64 bits), when its source has one."""


class RowSource(Protocol):
    """A readable segment. Iterating streams; nothing is held beyond one fetch."""

    description: str

    def rows(self, columns: Sequence[str]) -> Iterator[Row]: ...


def project(available: Sequence[str], wanted: Sequence[str], where: str) -> list[int]:
    """Positions of the wanted columns in the source's own.

    A wanted column that is missing or appears twice makes the segment unreadable. The
    message names only the mapping's columns: the source's names may be data (a secret
    file read as a CSV has the secret as its header).
    """
    positions: dict[str, int] = {}
    repeated: set[str] = set()
    for i, name in enumerate(available):
        if name in positions:
            repeated.add(name)
        positions.setdefault(name, i)
    for name in wanted:
        if name in repeated:
            places = [str(i + 1) for i, n in enumerate(available) if n == name]
            raise SourceInvalid(
                f"{where}: column {name!r} appears {len(places)} times (columns "
                f"{', '.join(places[:-1])} and {places[-1]}); which one is meant is "
                "ambiguous: rename the others"
            )
    missing = [name for name in wanted if name not in positions]
    if missing:
        raise SourceInvalid(f"{where}: {_missing(missing, available)}")
    return [positions[name] for name in wanted]


def _missing(missing: list[str], available: Sequence[str]) -> str:
    count = f"{len(available)} column{'' if len(available) == 1 else 's'}"
    hints = []
    for name in missing:
        near = [n for n in available if n.strip().casefold() == name.strip().casefold()]
        if near:
            hints.append(f"did you mean {near[0]!r} for {name!r}?")
    names = ", ".join(repr(name) for name in missing)
    return (
        f"column{'' if len(missing) == 1 else 's'} {names} not found among the source's "
        f"{count} (names must match exactly{'; ' if hints else ''}{' '.join(hints)}); "
        "fix spec.mapping or the source"
    )
