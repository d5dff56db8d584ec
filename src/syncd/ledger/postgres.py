"""The shared ledger on PostgreSQL: the same semantics as SQLite, for several replicas.

Each session is its own connection with its own temporary snapshot; the segment is
COPYed in and the diff runs in the database, so a 10-million-profile segment never
sits in Python memory. Every write is fenced by the session's epoch: a replica that
lost its claim (paused, partitioned) cannot commit after another took over.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from syncd.clock import SYSTEM_CLOCK, Clock
from syncd.errors import LedgerUnavailable
from syncd.ledger.auditing import LedgerAuditing
from syncd.ledger.forgetting import LedgerForgetting
from syncd.ledger.postgres_leases import PostgresLeases
from syncd.ledger.postgres_schema import FINALIZE, SNAPSHOT, STALE_PAGE, migrate
from syncd.ledger.reading import LedgerReads
from syncd.ledger.session import KEEP_RUNS, Params, SqlSession
from syncd.ledger.sql_text import SqlText
from syncd.logs import scrub

SQL = SqlText(
    param="%s",
    snapshot="pg_temp.snapshot",
    finalize=FINALIZE,
    stale_page=STALE_PAGE,
    finalize_all_new="",  # the server sorts keys only, whatever is acknowledged
    clear_staged="",
    release_staged="TRUNCATE pg_temp.snapshot_in",
    analyze_snapshot="ANALYZE pg_temp.snapshot, pg_temp.snapshot_in",
)


def connect(dsn: str) -> psycopg.Connection:
    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=10, application_name="syncd")
    except psycopg.Error as error:
        raise LedgerUnavailable(f"ledger: cannot connect: {scrub(str(error).strip())}") from None


class PostgresLedger(LedgerReads, LedgerForgetting, LedgerAuditing):
    def __init__(
        self,
        dsn: str,
        *,
        writer: bool = True,
        clock: Clock = SYSTEM_CLOCK,
        keep_runs: int = KEEP_RUNS,
    ) -> None:
        self.dsn = dsn
        self.writer = writer
        self.keep_runs = keep_runs
        self.clock = clock
        self.sql = SQL
        with self._connection() as connection:
            migrate(connection)

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        connection = connect(self.dsn)
        try:
            yield connection
        except psycopg.OperationalError as error:
            raise LedgerUnavailable(f"ledger: {scrub(str(error).strip())}") from None
        finally:
            connection.close()

    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._connection() as connection:
            return connection.execute(sql.encode(), params).fetchall()

    @contextmanager
    def _outside(self) -> Iterator[_PostgresTx]:
        with self._connection() as connection, connection.transaction():
            yield _PostgresTx(connection)

    @contextmanager
    def session(self, destination: str) -> Iterator[PostgresSession]:
        with self._connection() as connection:
            session = PostgresSession(connection, destination, self.clock, writer=self.writer)
            session.keep_runs = self.keep_runs
            yield session

    def leases(self, replica: str, *, ttl: float) -> PostgresLeases:
        return PostgresLeases(self.dsn, replica, self.clock, ttl=ttl)

    def announce(self, admin: str) -> None:
        """Nowhere to write it: the CLI finds a daemon through SYNCD_LISTEN."""
        del admin

    def close(self) -> None:
        """Nothing held between sessions."""


class _PostgresTx:
    def __init__(self, connection: psycopg.Connection) -> None:
        self._db = connection

    def run(self, sql: str, params: Params) -> int:
        return self._db.execute(sql.encode(), params).rowcount

    def rows(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        return self._db.execute(sql.encode(), params).fetchall()

    def many(self, sql: str, params: Sequence[Params]) -> None:
        if params:
            with self._db.cursor() as cursor:
                cursor.executemany(sql.encode(), params)

    def append(self, target: str, rows: Sequence[Params]) -> None:
        # COPY, where `executemany` sends a statement a row: a batch of 30,000 outbox
        # items in a third of the time, and a tenth of this process's CPU.
        if rows:
            with (
                self._db.cursor() as cursor,
                cursor.copy(f"COPY {target} FROM STDIN".encode()) as copy,
            ):
                for row in rows:
                    copy.write_row(row)


class PostgresSession(SqlSession):
    def __init__(
        self, connection: psycopg.Connection, destination: str, clock: Clock, *, writer: bool
    ) -> None:
        self._db = connection
        self._db.execute(SNAPSHOT.encode())
        super().__init__(destination, clock, SQL, writer=writer)

    def _rows(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        return self._db.execute(sql.encode(), params).fetchall()

    @contextmanager
    def _transaction(self) -> Iterator[_PostgresTx]:
        try:
            with self._db.transaction():
                yield _PostgresTx(self._db)
        except pg_errors.SerializationFailure as error:
            raise LedgerUnavailable(f"ledger busy: {error}") from None

    def _clear_snapshot(self) -> None:
        self._db.execute(b"TRUNCATE pg_temp.snapshot, pg_temp.snapshot_in")

    def stage(self, rows: Sequence[tuple[str, int, bytes, int, int]]) -> None:
        """COPY the rows in as they come; sorting and deduplicating wait for the end."""
        with (
            self._db.transaction(),
            self._db.cursor() as cursor,
            cursor.copy(
                b"COPY pg_temp.snapshot_in (email, raw, vals, segment, row) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)
