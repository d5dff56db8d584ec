"""Everything the ledger knows about one contact of one destination (`syncd explain`).

Point reads by (destination, email), each on its table's primary key or a small table;
only the last rejection scans the destination's rejections of the kept runs (at most
20 runs of 10,000).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from syncd.ledger.records import BatchKind, BatchOutcome, BatchState, Departure, Leaver
from syncd.ledger.sql_text import SqlText

_ENDED = "b.batch_id, b.run_id, b.kind, b.job_id, b.size, b.submitted_at, b.ended_at, b.outcome"
ACKED = (
    f"SELECT a.fingerprint, a.binding, a.acked_at, {_ENDED}"
    " FROM acked a LEFT JOIN sent_batches b ON b.id = a.sent_in"
    " WHERE a.destination = ? AND a.email = ?"
)
ATTEMPTS = (
    f"SELECT t.count, t.reason, t.segment, t.row, t.fingerprint, {_ENDED}"
    " FROM attempts t LEFT JOIN sent_batches b ON b.id = t.sent_in"
    " WHERE t.destination = ? AND t.email = ?"
)
IN_FLIGHT = (
    "SELECT b.id, b.kind, b.state, b.job_id, b.created_at, b.submitted_at, b.sends, b.run_id"
    " FROM outbox_items o JOIN batches b ON b.id = o.batch_id"
    " WHERE o.destination = ? AND o.email = ?"
)
REMOVAL = (
    "SELECT email, first_missed_at, sent_at, sends FROM removals"
    " WHERE destination = ? AND email = ?"
)
DEPARTED = "SELECT departed_at, how FROM departures WHERE destination = ? AND email = ?"
LAST_REJECTION = (
    "SELECT r.run_id, u.started_at, r.segment, r.row, r.reason"
    " FROM rejections r JOIN runs u ON u.id = r.run_id"
    " WHERE r.destination = ? AND r.email = ? ORDER BY r.run_id DESC LIMIT 1"
)
FIELDS = "SELECT fields FROM destinations WHERE name = ?"
NAMES = "SELECT name FROM destinations ORDER BY name"


@dataclass(frozen=True)
class EndedBatch:
    """A batch that carried the contact, and how it ended."""

    batch_id: int
    run_id: int | None
    kind: BatchKind
    job_id: str | None
    size: int
    submitted_at: float | None
    ended_at: float
    outcome: BatchOutcome


@dataclass(frozen=True)
class Acknowledged:
    fingerprint: int
    binding: int
    acked_at: float
    batch: EndedBatch | None


@dataclass(frozen=True)
class InFlight:
    """The contact is in an open batch: prepared, or submitted and its job not ended."""

    batch_id: int
    kind: BatchKind
    state: BatchState
    job_id: str | None
    created_at: float
    submitted_at: float | None
    sends: int
    run_id: int | None


@dataclass(frozen=True)
class Attempted:
    """SendGrid (or syncd, before sending) refused this payload `count` times."""

    count: int
    reason: str
    segment: str
    row: int
    fingerprint: int
    """Of the values refused: values that changed since are sent again."""
    batch: EndedBatch | None


@dataclass(frozen=True)
class Departed:
    at: float
    how: Departure


@dataclass(frozen=True)
class LastRejection:
    run_id: int
    run_started_at: float
    segment: str
    row: int
    reason: str


@dataclass(frozen=True)
class ContactRecord:
    destination: str
    acknowledged: Acknowledged | None
    in_flight: InFlight | None
    attempted: Attempted | None
    removal: Leaver | None
    departed: Departed | None
    rejection: LastRejection | None
    fields: dict[str, tuple[str, str]]
    """Custom field name (lower case) → (id, format sent) as the destination last used them."""

    @property
    def known(self) -> bool:
        """Whether the ledger holds anything at all about this contact."""
        return any(
            (
                self.acknowledged,
                self.in_flight,
                self.attempted,
                self.removal,
                self.departed,
                self.rejection,
            )
        )


def _ended(row: Sequence[Any]) -> EndedBatch | None:
    if row[0] is None:
        return None
    return EndedBatch(*row)


class ContactReads:
    """`contact()` over a backend's `_read(sql, params)`."""

    sql: SqlText

    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        rows = self._read(self.sql.adapt(sql), params)
        return rows[0] if rows else None

    def destination_names(self) -> list[str]:
        """Every destination the ledger has a record of."""
        return [row[0] for row in self._read(self.sql.adapt(NAMES), ())]

    def contact(self, destination: str, email: str) -> ContactRecord:
        key = (destination, email)
        acked = self._one(ACKED, key)
        attempted = self._one(ATTEMPTS, key)
        in_flight = self._one(IN_FLIGHT, key)
        removal = self._one(REMOVAL, key)
        departed = self._one(DEPARTED, key)
        rejection = self._one(LAST_REJECTION, key)
        fields = self._one(FIELDS, (destination,))
        return ContactRecord(
            destination=destination,
            acknowledged=Acknowledged(acked[0], acked[1], acked[2], _ended(acked[3:]))
            if acked
            else None,
            in_flight=InFlight(*in_flight) if in_flight else None,
            attempted=Attempted(
                attempted[0],
                attempted[1],
                attempted[2],
                attempted[3],
                attempted[4],
                _ended(attempted[5:]),
            )
            if attempted
            else None,
            removal=Leaver(removal[0], removal[1], removal[2], int(removal[3]))
            if removal
            else None,
            departed=Departed(departed[0], departed[1]) if departed else None,
            rejection=LastRejection(*rejection) if rejection else None,
            fields={k: (v[0], v[1]) for k, v in json.loads(fields[0]).items()} if fields else {},
        )
