"""One destination's state through one connection, written once for every backend.

A backend supplies the primitives (`_rows`, `_transaction` and the snapshot's
`reset_snapshot`/`stage`); everything else, including the fencing of every write
by the session's epoch, lives here, so SQLite and PostgreSQL cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from syncd.clock import Clock
from syncd.errors import LedgerConflict
from syncd.ledger.records import (
    RETRY_BUDGET,
    Batch,
    BatchKind,
    OutboxItem,
    Rejection,
    StagedContact,
)
from syncd.ledger.sql_text import SqlText
from syncd.planning import DiffCounts

KEEP_RUNS = 500
KEEP_REJECTION_RUNS = 20
MAX_REJECTIONS_PER_RUN = 10_000

Params = Sequence[Any]


class Tx(Protocol):
    """Statements inside one open transaction."""

    def run(self, sql: str, params: Params) -> int:
        """Execute; returns the affected row count."""
        ...

    def rows(self, sql: str, params: Params) -> list[tuple[Any, ...]]: ...

    def many(self, sql: str, params: Sequence[Params]) -> None: ...


class SqlSession:
    """Session logic over backend primitives; see the module docstring."""

    def __init__(self, destination: str, clock: Clock, sql: SqlText, *, writer: bool) -> None:
        self.destination = destination
        self.clock = clock
        self.sql = sql
        self.epoch = self._claim() if writer else -1

    # -- primitives a backend provides -------------------------------------------------
    def _rows(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _transaction(self) -> AbstractContextManager[Tx]:
        raise NotImplementedError

    # -- claiming and fencing ------------------------------------------------------------
    def _claim(self) -> int:
        with self._transaction() as tx:
            tx.run(self.sql.ensure_destination, (self.destination,))
            tx.run(self.sql.bump_epoch, (self.destination,))
            epoch: int = tx.rows(self.sql.epoch, (self.destination,))[0][0]
        return epoch

    @contextmanager
    def _write(self) -> Iterator[Tx]:
        """One transaction, refused when another holder has claimed the destination since:
        the fence is an UPDATE, so it also locks out a newer claim until this commits."""
        with self._transaction() as tx:
            if tx.run(self.sql.fence, (self.destination, self.epoch)) != 1:
                raise LedgerConflict(
                    f"destination {self.destination} was claimed by another run; "
                    "this run stops without committing"
                )
            yield tx

    def field_generation(self, fields: Mapping[str, tuple[str, str]], *, record: bool) -> int:
        """A number that changes when a custom field used before got another id or type
        (the field was recreated in SendGrid, so its values must be sent again). Fields
        newly mapped do not change it: contacts without a value for them stay unchanged."""
        row = self._rows(self.sql.get_fields, (self.destination,))
        known: dict[str, list[str]] = json.loads(row[0][0]) if row else {}
        generation: int = row[0][1] if row else 0
        wanted = {name.lower(): [id_, type_] for name, (id_, type_) in fields.items()}
        if any(known.get(name, value) != value for name, value in wanted.items()):
            generation += 1
        if record and (generation != (row[0][1] if row else 0) or wanted.keys() - known.keys()):
            with self._write() as tx:
                tx.run(
                    self.sql.set_fields,
                    (json.dumps(known | wanted, sort_keys=True), generation, self.destination),
                )
        return generation

    # -- runs ---------------------------------------------------------------------
    def begin_run(self, trigger: str, digest: str) -> int:
        with self._write() as tx:
            rows = tx.rows(
                self.sql.begin_run, (self.destination, trigger, digest, self.clock.now())
            )
        run_id: int = rows[0][0]
        return run_id

    def finish_run(
        self, run_id: int, outcome: str, counts: Mapping[str, int], error: str | None
    ) -> None:
        with self._write() as tx:
            tx.run(
                self.sql.finish_run,
                (self.clock.now(), outcome, json.dumps(dict(counts)), error, run_id),
            )
            tx.run(self.sql.prune_runs, (self.destination, self.destination, KEEP_RUNS))
            tx.run(
                self.sql.prune_rejections,
                (self.destination, self.destination, KEEP_REJECTION_RUNS),
            )

    def record_rejections(self, run_id: int, rejections: Sequence[Rejection]) -> None:
        if not rejections:
            return
        with self._write() as tx:
            already = tx.rows(self.sql.count_rejections, (run_id,))[0][0]
            room = max(0, MAX_REJECTIONS_PER_RUN - already)
            tx.many(
                self.sql.insert_rejection,
                [(run_id, self.destination, r.segment, r.row, r.reason) for r in rejections[:room]],
            )

    # -- the snapshot of this run's segment ------------------------------------------
    def reset_snapshot(self) -> None:
        raise NotImplementedError

    def stage(self, contacts: Sequence[tuple[str, int, bytes, int, int]]) -> int:
        """Add (email, fingerprint, payload, segment, row); the first of an email wins.
        Returns how many were new to the snapshot."""
        raise NotImplementedError

    def diff(self, binding: int, retry_budget: int) -> DiffCounts:
        d = self.destination
        desired, differ_new, differ_old = self._rows(self.sql.diff_counts, (binding, d))[0]
        held_new, held_old = self._rows(self.sql.count_held, (d, d, binding))[0]
        spent_new, spent_old = self._rows(
            self.sql.count_exhausted, (d, retry_budget, d, binding, d)
        )[0]
        return DiffCounts(
            desired=desired,
            acked=self._rows(self.sql.count_acked, (d,))[0][0],
            new=(differ_new or 0) - held_new - spent_new,
            changed=(differ_old or 0) - held_old - spent_old,
            unchanged=desired - (differ_new or 0) - (differ_old or 0),
            gone=self._rows(self.sql.count_gone, (d,))[0][0],
            held=held_new + held_old,
            exhausted=spent_new + spent_old,
        )

    def to_send(
        self, binding: int, retry_budget: int, after: str, limit: int
    ) -> list[StagedContact]:
        """New or changed contacts, in email order after `after`, not held nor exhausted."""
        d = self.destination
        rows = self._rows(self.sql.to_send, (d, after, binding, d, d, retry_budget, limit))
        return [
            StagedContact(
                email=row[0],
                fingerprint=row[1],
                payload=row[2],
                segment=row[3],
                row=row[4],
                is_new=bool(row[5]),
            )
            for row in rows
        ]

    def give_up(self, rejected: Sequence[tuple[StagedContact, str, str]]) -> None:
        """Contacts refused before sending (segment name, reason): not tried again until
        their payload changes; reported as rejected meanwhile."""
        if not rejected:
            return
        with self._write() as tx:
            tx.many(
                self.sql.give_up,
                [
                    (self.destination, c.email, c.fingerprint, RETRY_BUDGET, segment, c.row, reason)
                    for c, segment, reason in rejected
                ],
            )

    def exhausted(self, binding: int, retry_budget: int) -> list[Rejection]:
        d = self.destination
        rows = self._rows(self.sql.exhausted, (d, retry_budget, d, binding, d))
        return [Rejection(*row) for row in rows]

    def gone(self, after: str, limit: int) -> list[str]:
        rows = self._rows(self.sql.gone, (self.destination, after, limit))
        return [row[0] for row in rows]

    def forget(self, emails: Sequence[str]) -> None:
        """Drop contacts from the acked state without touching SendGrid (onLeave: keep)."""
        with self._write() as tx:
            tx.many(self.sql.forget, [(self.destination, e) for e in emails])

    # -- the outbox --------------------------------------------------------------------
    def open_batches(self) -> list[Batch]:
        rows = self._rows(self.sql.open_batches, (self.destination,))
        return [Batch(*row) for row in rows]

    def prepare(
        self, kind: BatchKind, list_id: str, items: Sequence[OutboxItem], run_id: int | None
    ) -> Batch:
        now = self.clock.now()
        with self._write() as tx:
            batch_id: int = tx.rows(
                self.sql.insert_batch, (self.destination, kind, list_id, now, run_id)
            )[0][0]
            tx.many(
                self.sql.insert_item,
                [
                    (
                        batch_id,
                        self.destination,
                        i.email,
                        i.fingerprint,
                        i.binding,
                        i.body,
                        i.segment,
                        i.row,
                    )
                    for i in items
                ],
            )
        return Batch(batch_id, kind, "prepared", list_id, None, now, None, len(items))

    def bodies(self, batch_id: int) -> list[bytes]:
        return [bytes(r[0]) for r in self._rows(self.sql.item_bodies, (batch_id,))]

    def emails(self, batch_id: int) -> list[str]:
        return [r[0] for r in self._rows(self.sql.item_emails, (batch_id,))]

    def submitted(self, batch_id: int, job_id: str) -> float:
        """Record the job id; returns when (epoch seconds)."""
        now = self.clock.now()
        with self._write() as tx:
            tx.run(self.sql.mark_submitted, (job_id, now, batch_id))
        return now

    def reopen(self, batch_id: int) -> None:
        """The job is unknown to SendGrid: send the batch again."""
        with self._write() as tx:
            tx.run(self.sql.mark_prepared, (batch_id,))

    def complete(
        self, batch: Batch, rejected: Mapping[str, str], *, applied: bool = True
    ) -> list[Rejection]:
        """The job ended: count the rejected items against their retry budget and, when the
        job was applied, acknowledge the others; then close the batch."""
        now = self.clock.now()
        with self._write() as tx:
            tx.many(
                self.sql.mark_item_rejected,
                [(reason, batch.id, email) for email, reason in rejected.items()],
            )
            if batch.kind == "upsert":
                if applied:
                    tx.run(self.sql.ack_items, (now, batch.id))
                    tx.run(self.sql.clear_attempts, (self.destination, batch.id))
                tx.run(self.sql.count_attempts, (batch.id,))
            elif applied:
                tx.run(self.sql.drop_acked, (self.destination, batch.id))
            reported = tx.rows(self.sql.rejected_items, (batch.id,))
            tx.run(self.sql.delete_batch, (batch.id,))
        return [Rejection(*row) for row in reported]

    def abandon(self, batch_id: int) -> None:
        """The job failed as a whole: nothing was applied, the contacts return to the diff."""
        with self._write() as tx:
            tx.run(self.sql.delete_batch, (batch_id,))
