"""The outbox: every batch is recorded before its request, its job id right after the 202.

Each method is one transaction. A batch SendGrid refused is changed here before it goes
out again (the refused contacts taken out, or the batch split in two), so a body SendGrid
refused is never sent again unchanged, whatever happens to the process in between.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from syncd.ledger.core import SessionCore
from syncd.ledger.forget_sql import forget_sql
from syncd.ledger.records import (
    RETRY_BUDGET,
    Batch,
    BatchKind,
    BatchOutcome,
    OutboxItem,
    Rejection,
)


class OutboxState(SessionCore):
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
            tx.append(
                self.sql.items_target,
                [
                    (
                        batch_id,
                        self.destination,
                        i.email,
                        i.fingerprint,
                        i.binding,
                        i.raw,
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

    def items(self, batch_id: int) -> list[tuple[str, bytes]]:
        """(email, body) in the order the body is sent."""
        return [(r[0], bytes(r[1])) for r in self._rows(self.sql.item_pairs, (batch_id,))]

    def sending(self, batch_id: int) -> int:
        """Count one more send of the batch's body; returns how many there have been."""
        with self._write() as tx:
            sends: int = tx.rows(self.sql.count_send, (batch_id,))[0][0]
        return sends

    def submitted(self, batch_id: int, job_id: str) -> float:
        """Record the job id; returns when (epoch seconds)."""
        now = self.clock.now()
        with self._write() as tx:
            tx.run(self.sql.mark_submitted, (job_id, now, batch_id))
        return now

    def job_unknown(self, batch_id: int) -> float:
        """SendGrid does not know the batch's job: since when it has said so."""
        with self._write() as tx:
            since: float = tx.rows(self.sql.mark_unknown, (self.clock.now(), batch_id))[0][0]
        return since

    def reopen(self, batch_id: int) -> None:
        """The job is unknown to SendGrid for good: send the batch again."""
        with self._write() as tx:
            tx.run(self.sql.mark_prepared, (batch_id,))

    def refuse(self, batch: Batch, refused: Mapping[str, str]) -> tuple[list[Rejection], int]:
        """SendGrid refused these contacts of a prepared upsert batch up front: they are given
        up at once (reported, not sent again until their values change) and leave the batch.
        Returns them as rejections, and how many contacts the batch still holds (an empty
        batch is closed)."""
        with self._write() as tx:
            tx.many(
                self.sql.mark_item_rejected,
                [(reason, batch.id, email) for email, reason in refused.items()],
            )
            tx.run(self.sql.give_up_items, (RETRY_BUDGET, batch.id))
            reported = tx.rows(self.sql.rejected_items, (batch.id,))
            tx.many(self.sql.drop_item, [(batch.id, email) for email in refused])
            left: int = tx.rows(self.sql.batch_size, (batch.id,))[0][0]
            if left:  # a new body: its sends count afresh
                tx.run(self.sql.reset_sends, (batch.id,))
            else:
                tx.run(self.sql.delete_batch, (batch.id,))
        return [Rejection(*row) for row in reported], left

    def still_charged(self, emails: Sequence[str]) -> set[str]:
        """Of `emails`, those whose last refusal stands: acknowledging a contact clears
        its attempts (a contact charged, then sent again and applied in the same run)."""
        rows = self._rows_for_emails(
            "SELECT email FROM attempts WHERE destination = ? AND email IN ({emails})", emails
        )
        return {row[0] for row in rows}

    def drop_items(self, batch: Batch, emails: Sequence[str]) -> int:
        """Take items out of a batch (a removal found unnecessary); returns how many remain,
        closing the batch when none do."""
        with self._write() as tx:
            tx.many(self.sql.drop_item, [(batch.id, email) for email in emails])
            left: int = tx.rows(self.sql.batch_size, (batch.id,))[0][0]
            if not left:
                tx.run(self.sql.delete_batch, (batch.id,))
        return left

    def set_bodies(self, batch: Batch, bodies: Mapping[str, bytes]) -> None:
        """New bodies for some items (a removal's contact ids looked up again)."""
        with self._write() as tx:
            tx.many(self.sql.set_item_body, [(b, batch.id, e) for e, b in bodies.items()])
            tx.run(self.sql.reset_sends, (batch.id,))

    def split(self, batch: Batch, at_email: str) -> Batch:
        """Move the items from `at_email` on into a new prepared batch; returns it."""
        now = self.clock.now()
        with self._write() as tx:
            new_id: int = tx.rows(
                self.sql.insert_batch,
                (self.destination, batch.kind, batch.list_id, now, None),
            )[0][0]
            tx.run(self.sql.move_items, (new_id, batch.id, at_email))
            tx.run(self.sql.reset_sends, (batch.id,))
            size: int = tx.rows(self.sql.batch_size, (new_id,))[0][0]
        return Batch(new_id, batch.kind, "prepared", batch.list_id, None, now, None, size)

    def complete(
        self, batch: Batch, rejected: Mapping[str, str], *, applied: bool = True
    ) -> list[Rejection]:
        """An upsert job ended: count the rejected items against their retry budget and,
        when the job was applied, acknowledge the others; then close the batch."""
        assert batch.kind == "upsert"
        now = self.clock.now()
        outcome: BatchOutcome = (
            "notApplied" if not applied else "partlyRejected" if rejected else "applied"
        )
        with self._write() as tx:
            tx.many(
                self.sql.mark_item_rejected,
                [(reason, batch.id, email) for email, reason in rejected.items()],
            )
            sent_in: int = tx.rows(self.sql.log_batch, (now, outcome, batch.id))[0][0]
            if applied:
                tx.run(self.sql.ack_items, (now, sent_in, batch.id))
                d, sql = self.destination, self.sql
                held = tx.rows(sql.holds_records, (d, d, d))[0]
                clears = (sql.clear_attempts, sql.clear_removals, sql.clear_departures)
                for clear, any_held in zip(clears, held, strict=True):
                    if any_held:
                        tx.run(clear, (d, batch.id))
            tx.run(self.sql.count_attempts, (sent_in, batch.id))
            reported = tx.rows(self.sql.rejected_items, (batch.id,))
            tx.run(self.sql.delete_batch, (batch.id,))
        return [Rejection(*row) for row in reported]

    def close_removals(self, ended: Sequence[tuple[Batch, bool]]) -> list[list[str]]:
        """Removal batches ended, each with whether SendGrid accepted it (its effect is
        confirmed by a later search, not trusted); either way each batch closes, all in one
        transaction (a run that opened a hundred removal batches commits once, not a
        hundred times). Returns each batch's emails, in the order given. Each is a leaver's
        removal or an erasure's (`syncd forget`): each state counts it."""
        now = self.clock.now()
        erasure_sent = forget_sql(self.sql.param).erasure_sent
        members: list[list[str]] = []
        with self._write() as tx:
            for batch, sent in ended:
                outcome: BatchOutcome = "accepted" if sent else "failed"
                emails = [r[0] for r in tx.rows(self.sql.item_emails, (batch.id,))]
                tx.run(self.sql.log_batch, (now, outcome, batch.id))
                if sent:
                    sends = [(now, self.destination, e) for e in emails]
                    tx.many(self.sql.removal_sent, sends)
                    tx.many(self.sql.doubt_acked, [(self.destination, e) for e in emails])
                    tx.many(erasure_sent, sends)
                tx.run(self.sql.delete_batch, (batch.id,))
                members.append(emails)
        return members

    def abandon(self, batch_id: int) -> None:
        """The job failed as a whole: nothing was applied, the contacts return to the diff."""
        with self._write() as tx:
            tx.run(self.sql.delete_batch, (batch_id,))
