"""Erasure: what the ledger forgets of an address, what it keeps, and erasures in SendGrid.

Ledger-wide (`LedgerForgetting`): the salt, created once; the forgotten addresses as
salted hashes, each for every destination (scope '') or one. Per destination
(`ForgettingState`, fenced like every write of a session): the address's records, in
one transaction; and the erasures in SendGrid this destination's API key carries out,
each kept (with its address) only until SendGrid's search confirms the contact is gone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from syncd.clock import Clock
from syncd.contacts import NOTHING_FORGOTTEN, Forgotten, forgotten_digest, new_salt
from syncd.ledger.core import SessionCore, Tx
from syncd.ledger.forget_sql import ForgetSql, forget_sql
from syncd.ledger.records import Erased, Leaver
from syncd.ledger.sql_text import SqlText

EVERY_DESTINATION = ""
"""The scope of an address forgotten for every destination."""
QUOTED = "<forgotten address>"


def _like(address: str) -> str:
    """A LIKE pattern (escape `\\`) matching text that quotes the address."""
    escaped = address.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class LedgerForgetting:
    """Ledger-wide reads and writes over a backend's `_read` and `_outside`."""

    clock: Clock
    sql: SqlText

    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _outside(self) -> AbstractContextManager[Tx]:
        """A transaction outside any destination's session (not fenced)."""
        raise NotImplementedError

    @property
    def _forget_sql(self) -> ForgetSql:
        return forget_sql(self.sql.param)

    def digest(self, address: str) -> bytes:
        """The salted hash of a keyed address; the salt is created on first use."""
        sql = self._forget_sql
        rows = self._read(sql.get_salt, ())
        if not rows:
            with self._outside() as tx:
                tx.run(sql.put_salt, (new_salt(),))
                rows = tx.rows(sql.get_salt, ())
        return forgotten_digest(bytes(rows[0][0]), address)

    def remember(self, digest: bytes, scope: str) -> bool:
        """Keep the hash so no run sends the address; False when it was kept already."""
        with self._outside() as tx:
            added = tx.run(self._forget_sql.remember, (digest, scope, self.clock.now()))
        return added == 1

    def scopes(self, digest: bytes) -> list[str]:
        """Where the address is forgotten: '' (every destination) and destination names."""
        return [row[0] for row in self._read(self._forget_sql.scopes, (digest,))]

    def forgotten_scopes(self, address: str) -> list[str]:
        """`scopes` of a keyed address, read only: a ledger without a salt yet has forgotten
        nothing (`digest` would create the salt)."""
        rows = self._read(self._forget_sql.get_salt, ())
        return self.scopes(forgotten_digest(bytes(rows[0][0]), address)) if rows else []

    def lift(self, digest: bytes, scope: str | None) -> list[str]:
        """Forget no more (every scope when `scope` is None); returns the scopes lifted."""
        sql = self._forget_sql
        with self._outside() as tx:
            lifted = [row[0] for row in tx.rows(sql.scopes, (digest,))]
            if scope is None:
                tx.run(sql.lift_all, (digest,))
            else:
                lifted = [s for s in lifted if s == scope]
                tx.run(sql.lift, (digest, scope))
        return lifted

    def holds(self, destination: str, address: str) -> bool:
        """Whether a destination has the address acknowledged or in its outbox."""
        params = (destination, address, destination, address)
        count: int = self._read(self._forget_sql.holds, params)[0][0]
        return count > 0


class ForgettingState(SessionCore):
    """One destination's side of erasure."""

    @property
    def _forget_sql(self) -> ForgetSql:
        return forget_sql(self.sql.param)

    def forgotten(self) -> Forgotten:
        """The addresses forgotten for this destination (read once per run)."""
        sql = self._forget_sql
        digests = self._rows(sql.applying_to, (self.destination,))
        if not digests:
            return NOTHING_FORGOTTEN
        salt = self._rows(sql.get_salt, ())[0][0]
        return Forgotten(bytes(salt), frozenset(bytes(row[0]) for row in digests))

    def erase(self, address: str) -> Erased:
        """Every record of the address in this destination, in one transaction; and the
        record that SendGrid was known equal to the sources (the next run reads them)."""
        sql = self._forget_sql
        d = self.destination
        pattern = _like(address)
        with self._write() as tx:
            counts = {
                "acknowledged": tx.run(sql.erase_acked, (d, address)),
                "retries": tx.run(sql.erase_attempts, (d, address)),
                "removals": tx.run(sql.erase_removal, (d, address))
                + tx.run(sql.erase_departure, (d, address)),
                "rejections": tx.run(sql.erase_rejections, (d, address, pattern)),
                "errors": _unquote_errors(tx, sql, d, address, pattern),
            }
            unsent, in_flight = self._take_out_of_batches(tx, address)
            tx.run(sql.forget_in_sync, (d,))
        return Erased(d, **counts, unsent=unsent, in_flight=in_flight)

    def _take_out_of_batches(self, tx: Tx, address: str) -> tuple[int, int]:
        """Items not sent yet leave their batch (a batch left empty closes); items SendGrid
        already has stay until their job ends, when settling drops them."""
        unsent = in_flight = 0
        for batch_id, state in tx.rows(self._forget_sql.held_in, (self.destination, address)):
            if state == "submitted":
                in_flight += 1
                continue
            unsent += 1
            tx.run(self.sql.drop_item, (batch_id, address))
            if tx.rows(self.sql.batch_size, (batch_id,))[0][0]:
                tx.run(self.sql.reset_sends, (batch_id,))  # a new body: its sends count afresh
            else:
                tx.run(self.sql.delete_batch, (batch_id,))
        return unsent, in_flight

    # -- erasures in SendGrid ----------------------------------------------------------------
    def queue_erasure(self, address: str) -> None:
        with self._write() as tx:
            tx.run(self._forget_sql.queue_erasure, (self.destination, address, self.clock.now()))

    def erasures(self) -> list[Leaver]:
        """Pending erasures, in the state a leaver's removal has (not found since, sent)."""
        rows = self._rows(self._forget_sql.erasures, (self.destination,))
        return [Leaver(r[0], r[1], r[2], int(r[3])) for r in rows]

    def erasures_waiting(self) -> set[str]:
        """Addresses of pending erasures that an upsert job in flight may still create."""
        rows = self._rows(self._forget_sql.upserts_in_flight, (self.destination,))
        return {row[0] for row in rows}

    def erasures_missed(self, addresses: Sequence[str]) -> None:
        now = self.clock.now()
        with self._write() as tx:
            tx.many(
                self._forget_sql.erasure_missed, [(now, self.destination, a) for a in addresses]
            )

    def erasures_done(self, addresses: Sequence[str]) -> None:
        """Confirmed gone from SendGrid (or given up on): the address leaves the ledger."""
        with self._write() as tx:
            tx.many(self._forget_sql.erasure_done, [(self.destination, a) for a in addresses])

    def pending_erasures(self) -> int:
        count: int = self._rows(self._forget_sql.count_erasures, (self.destination,))[0][0]
        return count


def _unquote_errors(tx: Tx, sql: ForgetSql, destination: str, address: str, pattern: str) -> int:
    """Replace the address in the run errors that quote it; returns how many did."""
    quoted = re.compile(re.escape(address), re.IGNORECASE)
    rows = tx.rows(sql.errors_quoting, (destination, pattern))
    tx.many(sql.set_error, [(quoted.sub(QUOTED, error), run_id) for run_id, error in rows])
    return len(rows)
