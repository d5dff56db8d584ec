"""One destination's state in the SQLite ledger, through one connection.

A `SqliteSession` runs one run at a time on a connection of its own, whose temporary
`snapshot` tables hold the segment while SQLite computes the diff; its transactions
(`SqliteTx`) are the ones `SqlSession` writes through. Every SQLite error is
translated, by the context the ledger gives the session, into a syncd error that says
what to do.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from syncd.clock import Clock
from syncd.ledger.session import Params, SqlSession
from syncd.ledger.sql_text import SqlText
from syncd.ledger.sqlite_schema import SNAPSHOT

SQL = SqlText(param="?", snapshot="temp.snapshot")


class SqliteTx:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def run(self, sql: str, params: Params) -> int:
        return self._db.execute(sql, params).rowcount

    def rows(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        return self._db.execute(sql, params).fetchall()

    def many(self, sql: str, params: Sequence[Params]) -> None:
        self._db.executemany(sql, params)

    def append(self, target: str, rows: Sequence[Params]) -> None:
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            self._db.executemany(f"INSERT INTO {target} VALUES ({marks})", rows)


class SqliteSession(SqlSession):
    """One destination's state, through one connection (one run at a time). Every SQLite
    error is translated into a syncd error that says what to do."""

    translated: Callable[[], AbstractContextManager[None]] = nullcontext

    def __init__(
        self, connection: sqlite3.Connection, destination: str, clock: Clock, *, writer: bool
    ) -> None:
        self._db = connection
        self._db.executescript(SNAPSHOT)
        super().__init__(destination, clock, SQL, writer=writer)

    def _rows(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        with self.translated():
            return self._db.execute(sql, params).fetchall()

    def _transaction(self) -> AbstractContextManager[SqliteTx]:
        return self._begin("BEGIN IMMEDIATE")

    def _scratch(self) -> AbstractContextManager[SqliteTx]:
        # Deferred: a reader (syncd plan) may not take the main database's write lock.
        return self._begin("BEGIN")

    @contextmanager
    def _begin(self, statement: str) -> Iterator[SqliteTx]:
        with self.translated():
            self._db.execute(statement)
            try:
                yield SqliteTx(self._db)
                self._db.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back already (a full disk): a second ROLLBACK would
                # replace the real error with "no transaction is active".
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _clear_snapshot(self) -> None:
        with self.translated():
            self._db.execute("DELETE FROM temp.snapshot_in")
            self._db.execute("DELETE FROM temp.snapshot")

    def stage(self, rows: Sequence[tuple[str, int, bytes, int, int]]) -> None:
        with self._scratch() as tx:
            tx.many(self.sql.stage, rows)
