"""Where each leaver's removal stands, between runs.

SendGrid's search lags behind its jobs, and a removal it accepted is not proof that it
happened. So a contact that left the segment stays acknowledged (on the list, as far as
syncd knows) until a search confirms it is off the list or gone; meanwhile its state says
whether it was not found yet (since when) or a removal was sent (when, how often).
"""

from __future__ import annotations

from collections.abc import Sequence

from syncd.ledger.core import SessionCore
from syncd.ledger.forget_sql import forget_sql
from syncd.ledger.records import Departure, Leaver, Returning

MOVED_PAGE = 10_000


class LeaverState(SessionCore):
    def leavers(self, after: str, limit: int) -> list[Leaver]:
        """Acknowledged contacts no longer desired and not in an open batch, email order."""
        sql = self._absent(self.sql.leavers, self.sql.leavers_scoped)
        rows = self._rows(sql, (self.destination, after, limit))
        return [Leaver(r[0], r[1], r[2], int(r[3]), r[4]) for r in rows]

    def moved_away(self, on_this_list: frozenset[int]) -> list[str]:
        """Leavers acknowledged under a binding not `on_this_list`: syncd put them on the
        destination's former list (`listId` changed since), not on this one. None unless
        `mark_rebind` found another binding (the leavers are not read otherwise)."""
        if not self._other_bindings:
            return []
        moved: list[str] = []
        after = ""
        while page := self.leavers(after, MOVED_PAGE):
            after = page[-1].email
            moved += [
                leaver.email
                for leaver in page
                if leaver.binding is not None and leaver.binding not in on_this_list
            ]
        return moved

    def drop_moved_away(self, emails: Sequence[str]) -> None:
        """Leavers of the former list forgotten: neither taken off it nor off this one,
        and no departure recorded (nothing was done to them)."""
        keys = [(self.destination, e) for e in emails]
        with self._write() as tx:
            tx.many(self.sql.forget, keys)
            tx.many(self.sql.forget_removal, keys)

    def held_elsewhere(self, emails: Sequence[str]) -> set[str]:
        """Of `emails`, those another destination of this ledger holds acknowledged: a
        contact deleted from the account would leave its lists too."""
        # Driven by the destinations (a few): each lookup by acked's key, where a filter on
        # `destination <> ?` alone scanned every acknowledged contact of the ledger.
        rows = self._rows_for_emails(
            "SELECT DISTINCT a.email FROM destinations d CROSS JOIN acked a"
            " WHERE d.name <> ? AND a.destination = d.name AND a.email IN ({emails})",
            emails,
        )
        return {row[0] for row in rows}

    def clear_returned(self) -> None:
        """Leavers back in the segment before any removal was sent: their removal state is
        stale. Those whose removal was sent are `returning`."""
        with self._write() as tx:
            sql = self._absent(self.sql.clear_returned, self.sql.clear_returned_scoped)
            tx.run(sql, (self.destination,))

    def returning(self, after: str, limit: int) -> list[Returning]:
        """Leavers back in the segment after their removal was sent, in email order: SendGrid
        may still apply that removal, after any re-add, so `to_send` leaves them out (the
        diff counts them held) until `released`."""
        sql = self._absent(self.sql.returning, self.sql.returning_scoped)
        rows = self._rows(sql, (self.destination, after, limit))
        return [Returning(r[0], float(r[1])) for r in rows]

    def released(self, emails: Sequence[str]) -> None:
        """Returning leavers whose removal settled (or whose grace passed): sent again like
        any contact whose values differ from those acknowledged."""
        with self._write() as tx:
            tx.many(self.sql.forget_removal, [(self.destination, e) for e in emails])

    def not_removed(self) -> int:
        """Leavers syncd gave up taking off the list (`notRemoved`) whose departure it still
        remembers: on the list as far as it knows, told at every run, not only the one that
        gave up."""
        rows = self._rows(self.sql.count_not_removed, (self.destination,))
        return int(rows[0][0])

    def missed(self, emails: Sequence[str]) -> None:
        """Search did not find these leavers (maybe not yet): remember since when."""
        now = self.clock.now()
        with self._write() as tx:
            tx.many(self.sql.missed, [(self.destination, e, now) for e in emails])

    def removed(self, emails: Sequence[str], *, how: Departure = "removed") -> int:
        """Confirmed off the list (or out of the account), or given up on (`notRemoved`):
        no longer acknowledged, nor waiting to be erased; a leaver's departure is remembered
        (for `syncd explain`), an erasure's is not (nothing of it may stay). Returns how
        many were erasures."""
        now = self.clock.now()
        keys = [(self.destination, e) for e in emails]
        erasures = forget_sql(self.sql.param)
        erased = 0
        with self._write() as tx:
            tx.many(self.sql.forget, keys)
            tx.many(self.sql.forget_removal, keys)
            # Erasures are rare: without any, every key is a departure, written in one
            # batch instead of a statement (a round trip on PostgreSQL) or two a key.
            if not tx.rows(erasures.count_erasures, (self.destination,))[0][0]:
                tx.many(self.sql.depart, [(*key, now, how) for key in keys])
                return 0
            for key in keys:
                if tx.run(erasures.erasure_done, key):
                    erased += 1
                else:
                    tx.run(self.sql.depart, (*key, now, how))
        return erased

    def pending_removals(self) -> int:
        """Leavers still acknowledged after this run: their removal is not confirmed yet."""
        sql = self._absent(self.sql.pending_removals, self.sql.pending_removals_scoped)
        count: int = self._rows(sql, (self.destination, ""))[0][0]
        return count
