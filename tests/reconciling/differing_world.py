"""What the tests of staging only what differs share: a world synced, then changed by one
of the scenarios below; a run's outcome in comparable form; the ledger opened directly."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from structlog.testing import capture_logs

from syncd.ledger import open_ledger
from tests.reconciling.world import Row, World, people


def outcome(report: Any) -> tuple[Any, ...]:
    counts = report.counts()
    return (
        report.outcome,
        {k: counts[k] for k in ("profiles", "new", "changed", "unchanged", "gone", "rejected")},
        counts["upserted"],
        counts["removed"],
        counts["forgotten"],
        sorted((r.row, r.reason) for r in report.staged.rejections),
    )


@contextmanager
def ledger_file(w: World) -> Iterator[sqlite3.Connection]:
    """The world's SQLite ledger opened directly, its session closed meanwhile; committed
    at the end of the block."""
    w.ledger.close()
    db = sqlite3.connect(w.settings.state)
    try:
        with db:
            yield db
    finally:
        db.close()
        w.ledger = open_ledger(w.settings.state)


async def synced_then(
    w: World, change: Callable[[list[Row]], list[Row]], **spec: Any
) -> tuple[Any, list[MutableMapping[str, Any]]]:
    rows = people(0, 40)
    w.destination({"vip": w.csv("vip", rows)}, **spec)
    first = await w.sync()
    assert first.outcome == "success", first.error
    w.csv("vip", change([dict(r) for r in rows]))
    with capture_logs() as logs:
        report = await w.sync()
    return report, [e for e in logs if e["event"] == "reading.differing"]


def changed_one(rows: list[Row]) -> list[Row]:
    rows[3]["FirstName"] = "Changed"
    return rows


def three_left(rows: list[Row]) -> list[Row]:
    return rows[3:]


def five_joined(rows: list[Row]) -> list[Row]:
    return rows + people(100, 5)


def a_bad_address_and_a_blank_one(rows: list[Row]) -> list[Row]:
    bad = dict(rows[0], EmailAddress="ß@bad@example.com")
    blank = dict(rows[0], EmailAddress="  ")
    return [*rows, bad, blank]


def twice_old_first(rows: list[Row]) -> list[Row]:
    # The unchanged row first: it wins, nothing is sent for this contact.
    return [*rows, dict(rows[5], FirstName="Second")]


def twice_new_first(rows: list[Row]) -> list[Row]:
    # A new spelling of the address with other values, before the unchanged row: it wins.
    again = dict(rows[5], EmailAddress=rows[5]["EmailAddress"].upper(), FirstName="First")
    return [again, *rows]


def the_same_row_twice(rows: list[Row]) -> list[Row]:
    # An unchanged row found twice: its print matches an acknowledged one, but only once.
    return [*rows[:9], rows[7], *rows[9:]]


def respelled(rows: list[Row]) -> list[Row]:
    # The same contact under another spelling of its address: another print, same email.
    rows[4]["EmailAddress"] = rows[4]["EmailAddress"].upper()
    return rows


def mixed(rows: list[Row]) -> list[Row]:
    return five_joined(three_left(changed_one(rows)))


SCENARIOS = [
    changed_one,
    three_left,
    five_joined,
    a_bad_address_and_a_blank_one,
    twice_old_first,
    twice_new_first,
    the_same_row_twice,
    respelled,
    mixed,
]


def not_scanned(*args: Any, **kwargs: Any) -> None:
    return None  # as for a file that is not plain: the csv module reads it


async def synced_then_again(w: World) -> tuple[Any, list[MutableMapping[str, Any]]]:
    with capture_logs() as logs:
        report = await w.sync()
    assert report.outcome == "success", report.error
    return report, [e for e in logs if e["event"] == "reading.differing"]
