"""Ledger-wide reads (status, history), shared by the backends."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from syncd.ledger.contacts import ContactReads
from syncd.ledger.records import Batch, DestinationSummary, Rejection, RunRecord
from syncd.ledger.sql_text import SqlText

GIVEN_UP = (
    "left the segment, but syncd gave up taking it off the list: it may still be on it "
    "(syncd explain EMAIL says why)"
)


def run_record(row: Sequence[Any]) -> RunRecord:
    return RunRecord(
        id=row[0],
        destination=row[1],
        trigger=row[2],
        digest=row[3],
        started_at=row[4],
        ended_at=row[5],
        outcome=row[6],
        counts=json.loads(row[7] or "{}"),
        error=row[8],
        read=row[9],
    )


class LedgerReads(ContactReads):
    """Status queries over a backend's `_read(sql, params)`."""

    sql: SqlText

    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def summaries(self) -> list[DestinationSummary]:
        return [
            DestinationSummary(
                destination=row[0],
                last_run=run_record(row[1:11]),
                last_success_at=row[11],
                open_batches=row[12],
                oldest_open_batch_at=row[13],
                pending_erasures=row[14],
            )
            for row in self._read(self.sql.summaries, ())
        ]

    def runs(self, destination: str, limit: int = 20) -> list[RunRecord]:
        return [run_record(row) for row in self._read(self.sql.runs, (destination, limit))]

    def open_batches(self, destination: str) -> list[Batch]:
        """The destination's outbox: batches recorded and not yet finished (read only)."""
        return [
            Batch(
                id=r[0],
                kind=r[1],
                state=r[2],
                list_id=r[3],
                job_id=r[4],
                created_at=r[5],
                submitted_at=r[6],
                size=r[7],
                sends=r[8],
                unknown_since=r[9],
            )
            for r in self._read(self.sql.open_batches, (destination,))
        ]

    def rejections(self, run_id: int, limit: int = 100) -> list[Rejection]:
        return [Rejection(*row) for row in self._read(self.sql.rejections, (run_id, limit))]

    def given_up_leavers(self, destination: str, limit: int = 100) -> list[Rejection]:
        """Leavers syncd gave up taking off the list (`notRemoved`) whose departure it still
        remembers, whichever run gave up: on the list as far as it knows."""
        rows = self._read(self.sql.given_up_leavers, (destination, limit))
        return [Rejection("", 0, GIVEN_UP, row[0]) for row in rows]

    def holds_acked(self, destination: str) -> bool:
        """Whether SendGrid acknowledged any contact for a destination (none: a first
        export), without counting them."""
        return bool(self._read(self.sql.holds_acked, (destination,))[0][0])

    def ping(self) -> None:
        self._read(self.sql.ping, ())
