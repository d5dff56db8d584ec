"""One destination's state through one connection, written once for every backend.

A backend supplies the primitives (`_rows`, `_transaction` and the snapshot's
`reset_snapshot`/`stage`); everything else, including the fencing of every write
by the session's epoch, lives here, so SQLite and PostgreSQL cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager

from syncd.ledger.auditing import AuditState
from syncd.ledger.core import Params, SessionCore, Tx
from syncd.ledger.digests import DigestState
from syncd.ledger.forgetting import ForgettingState
from syncd.ledger.leavers import LeaverState
from syncd.ledger.outbox import OutboxState
from syncd.ledger.records import RETRY_BUDGET, Rejection, StagedContact, StaleRow
from syncd.ledger.run_state import KEEP_RUNS, RunState
from syncd.planning import DiffCounts

__all__ = ["KEEP_RUNS", "Params", "SqlSession", "Tx"]


class SqlSession(
    RunState, OutboxState, LeaverState, ForgettingState, AuditState, DigestState, SessionCore
):
    """Session logic over backend primitives; see the module docstring."""

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
        changed = generation != (row[0][1] if row else 0)
        if record and (changed or wanted.keys() - known.keys()):
            with self._write() as tx:
                tx.run(
                    self.sql.set_fields,
                    (json.dumps(known | wanted, sort_keys=True), generation, self.destination),
                )
                if changed:  # every refusal is judged again against the fields as they are
                    tx.run(self.sql.forget_attempts, (self.destination,))
        return generation

    def in_sync(self) -> str | None:
        """What the sources were when SendGrid was last known equal to them, if it still is."""
        rows = self._rows(self.sql.get_in_sync, (self.destination,))
        value: str | None = rows[0][0] if rows else None
        return value

    def mark_in_sync(self, value: str | None) -> None:
        with self._write() as tx:
            tx.run(self.sql.set_in_sync, (value, self.destination))

    def segment_rows(self) -> dict[str, int]:
        """How many rows each segment had when last read whole (none yet: empty)."""
        rows = self._rows(self.sql.get_segment_rows, (self.destination,))
        stored = rows[0][0] if rows else None
        return {str(k): int(v) for k, v in json.loads(stored).items()} if stored else {}

    def record_segment_rows(self, counts: Mapping[str, int]) -> None:
        with self._write() as tx:
            tx.run(self.sql.set_segment_rows, (json.dumps(dict(counts)), self.destination))

    # -- the snapshot of this run's segment ------------------------------------------
    def reset_snapshot(self) -> None:
        """An empty snapshot, holding the whole segment once staged (not scoped)."""
        self._outside = self._scoped_acked = None
        self._clear_snapshot()

    def _clear_snapshot(self) -> None:
        raise NotImplementedError

    def stage(self, rows: Sequence[tuple[str, int, bytes, int, int]]) -> None:
        """Append (email, raw fingerprint, source values, segment, row) as read."""
        raise NotImplementedError

    def _scratch(self) -> AbstractContextManager[Tx]:
        """A transaction touching only this connection's temporary tables (readers too)."""
        return self._transaction()

    def staged_distinct(self) -> int:
        count: int = self._rows(self.sql.staged_distinct, ())[0][0]
        return count

    def finalize_snapshot(self) -> int:
        """Sort what was staged into the snapshot, the first row of each email winning, and
        mark each row known/stale against the acknowledged state; returns the profiles."""
        with self._scratch() as tx:
            all_new = (
                self.sql.finalize_all_new
                and not tx.rows(self.sql.any_acked, (self.destination,))[0][0]
            )
            if all_new:
                tx.run(self.sql.finalize_all_new, ())
            else:
                tx.run(self.sql.finalize, (self.destination,))
            if self.sql.clear_staged:
                tx.run(self.sql.clear_staged, ())
            if self.sql.analyze_snapshot:
                tx.run(self.sql.analyze_snapshot, ())
        return self._snapshot_counts()[0]

    def release_staged(self) -> None:
        """Every stale row is built: the staged source values are no longer needed."""
        if self.sql.release_staged:
            with self._scratch() as tx:
                tx.run(self.sql.release_staged, ())

    def refresh_flags(self) -> None:
        """Recompute known/stale after batches of an earlier run were acknowledged."""
        with self._scratch() as tx:
            tx.run(self.sql.refresh_flags, (self.destination, self.destination))

    def mark_rebind(self, binding: int) -> None:
        """Contacts acknowledged under another binding (list, field ids) are sent again."""
        if self._rows(self.sql.other_binding, (self.destination, binding)):
            self._other_bindings = True
            with self._scratch() as tx:
                tx.run(self.sql.mark_rebind, (self.destination, binding))

    def stale(self, after: str, limit: int) -> list[StaleRow]:
        """Rows still to build, in email order after `after`."""
        return [
            StaleRow(r[0], r[1], bytes(r[2]), r[3], r[4], bool(r[5]), r[6], r[7])
            for r in self._rows(self.sql.stale_page, (self.destination, after, limit))
        ]

    def record_builds(
        self,
        built: Sequence[tuple[int, bytes, str]],
        settled: Sequence[str],
        dropped: Sequence[str],
        raw_refresh: Sequence[tuple[int, str]],
    ) -> None:
        """Built payloads (fingerprint, payload, email); rows found equal to what SendGrid
        has, or refused but kept (settled); refused new rows (dropped); and, outside the
        snapshot, the source fingerprints to remember for contacts whose payload did not
        change (a mapping change): the next run then skips building them."""
        with self._scratch() as tx:
            tx.many(self.sql.set_built, built)
            tx.many(self.sql.settle, [(email,) for email in settled])
            tx.many(self.sql.drop, [(email,) for email in dropped])
        if raw_refresh:
            with self._write() as tx:
                tx.many(
                    self.sql.refresh_raw,
                    [(raw, self.destination, email) for raw, email in raw_refresh],
                )

    def nothing_recorded(self) -> bool:
        """Nothing acknowledged, no batch open, no retry spent, no removal sent that may
        still land: a first export."""
        d = self.destination
        return bool(self._rows(self.sql.nothing_recorded, (d, d, d, d))[0][0])

    def acked_count(self) -> int:
        count: int = self._rows(self.sql.count_acked, (self.destination,))[0][0]
        return count

    def holds_acked(self) -> bool:
        """Whether any contact is acknowledged (`acked_count` reads every one: 0.07-0.2 s
        a million)."""
        return bool(self._rows(self.sql.holds_acked, (self.destination,))[0][0])

    def _snapshot_counts(self) -> tuple[int, int, int, int]:
        """(profiles, not known, stale and new, stale and known)."""
        row = self._rows(self.sql.snapshot_counts, ())[0]
        outside = self._outside or 0  # known, not stale
        return int(row[0]) + outside, int(row[1] or 0), int(row[2] or 0), int(row[3] or 0)

    def diff(self, retry_budget: int, on_this_list: frozenset[int] = frozenset()) -> DiffCounts:
        """The snapshot, once built, against the acknowledged state. Leavers acknowledged
        under a binding not `on_this_list` are counted apart (`moved_away`), not as gone."""
        d = self.destination
        desired, not_known, stale_new, stale_known = self._snapshot_counts()
        held_new, held_known = self._rows(self.sql.count_held, (d,))[0]
        spent_new, spent_known = self._rows(self.sql.count_exhausted, (d, retry_budget))[0]
        # Returning leavers (`returning`) wait for their removal to settle: held too.
        back_new, back_known = self._rows(self.sql.count_returning, (d, retry_budget))[0]
        held_new, held_known = held_new + back_new, held_known + back_known
        moved = self.moved_away(on_this_list) if on_this_list else []
        acked = self._scoped_acked
        if acked is None:
            acked = int(self._rows(self.sql.count_acked, (d,))[0][0])
        return DiffCounts(
            desired=desired,
            acked=acked,
            new=stale_new - held_new - spent_new,
            changed=stale_known - held_known - spent_known,
            unchanged=desired - stale_new - stale_known,
            gone=acked - (desired - not_known) - len(moved),
            held=held_new + held_known,
            exhausted=spent_new + spent_known,
            moved_away=len(moved),
            removing_already=self._removing_already(),
        )

    def _removing_already(self) -> int:
        sql = self._absent(self.sql.removing_already, self.sql.removing_already_scoped)
        count: int = self._rows(sql, (self.destination,))[0][0]
        return count

    def to_send(self, retry_budget: int, after: str, limit: int) -> list[StagedContact]:
        """Built contacts that differ from SendGrid, in email order after `after`, not held
        by an open batch nor out of retries, nor waiting for its removal to settle."""
        d = self.destination
        rows = self._rows(self.sql.to_send, (after, d, d, d, retry_budget, limit))
        return [
            StagedContact(row[0], row[1], bytes(row[2]), row[3], row[4], bool(row[5]), row[6])
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

    def exhausted(self, retry_budget: int, segment_names: Sequence[str]) -> list[Rejection]:
        """Differing contacts given up on with this very payload, with their reasons, at the
        segment (named by `segment_names`) and row that hold them in this run."""
        rows = self._rows(self.sql.exhausted, (self.destination, retry_budget))
        return [Rejection(segment_names[s], row, reason, email) for s, row, reason, email in rows]

    def gone(self, after: str, limit: int) -> list[str]:
        gone = self._absent(self.sql.gone, self.sql.gone_scoped)
        rows = self._rows(gone, (self.destination, after, limit))
        return [row[0] for row in rows]

    def forget(self, emails: Sequence[str]) -> None:
        """Drop contacts from the acked state without touching SendGrid (onLeave: keep). A
        removal already sent (onLeave changed while it was in flight) may still land: its
        record stays, and holds the contact's re-add if it comes back (`returning`)."""
        now = self.clock.now()
        with self._write() as tx:
            tx.many(self.sql.forget, [(self.destination, e) for e in emails])
            tx.many(self.sql.forget_unsent_removal, [(self.destination, e) for e in emails])
            tx.many(self.sql.depart, [(self.destination, e, now, "kept") for e in emails])
