"""The primitives every session is built on: a backend's statements and the epoch fence.

A backend supplies `_rows` and `_transaction`; `_write` fences every write by the
session's epoch, so a run that lost its claim on a destination cannot commit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from syncd.clock import Clock
from syncd.errors import ClaimLost
from syncd.ledger.sql_text import SqlText

Params = Sequence[Any]
EMAILS_A_STATEMENT = 500
"""Addresses asked in one statement's IN list (`_rows_for_emails`)."""


class Tx(Protocol):
    """Statements inside one open transaction."""

    def run(self, sql: str, params: Params) -> int:
        """Execute; returns the affected row count."""
        ...

    def rows(self, sql: str, params: Params) -> list[tuple[Any, ...]]: ...

    def many(self, sql: str, params: Sequence[Params]) -> None: ...

    def append(self, target: str, rows: Sequence[Params]) -> None:
        """New rows into `target` (`table (column, ...)`), each a new key (a conflict is an
        error, as for a plain INSERT): one COPY where the backend has it."""
        ...


class SessionCore:
    """A destination's claim on the ledger, and the statements to read and write it."""

    def __init__(self, destination: str, clock: Clock, sql: SqlText, *, writer: bool) -> None:
        self.destination = destination
        self.clock = clock
        self.sql = sql
        self.epoch = self._claim() if writer else -1
        self._outside: int | None = None
        """With a scoped snapshot (`DigestState.scope_snapshot`), the acknowledged rows it
        leaves out, present as they are; None when the snapshot holds the whole segment."""
        self._scoped_acked: int | None = None
        """With a snapshot scoped by the prints no row matched, the acknowledged rows: those
        left out and those of the unmatched prints, as counted when the scope was made
        (`diff` needs no other pass over `acked` for them)."""
        self._differing = b""
        """The buckets that differ (`DigestState.declare_differing`), a `bucket_mask`."""
        self._other_bindings = False
        """Whether `mark_rebind` found contacts acknowledged under another binding (a list
        or field ids changed since): only then may a leaver belong to another list."""

    def _absent(self, whole: str, scoped: str) -> str:
        """Of a question about absent contacts, the statement for this snapshot: `scoped`
        starts from the scope's contacts when the snapshot is scoped."""
        return whole if self._outside is None else scoped

    def _rows_for_emails(self, template: str, emails: Sequence[str]) -> list[tuple[Any, ...]]:
        """`template` (`?` for the destination, `{emails}` for an IN list) asked for
        `emails` a page at a time: no statement takes an unbounded list of parameters."""
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(emails), EMAILS_A_STATEMENT):
            part = emails[start : start + EMAILS_A_STATEMENT]
            sql = self.sql.adapt(template.replace("{emails}", ", ".join("?" * len(part))))
            rows += self._rows(sql, (self.destination, *part))
        return rows

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
                raise ClaimLost(
                    f"destination {self.destination} was claimed by another run; "
                    "this run stops without committing, and is tried again later"
                )
            yield tx
