"""A PostgreSQL query, streamed with a server-side cursor in a read-only transaction.

The transaction is always rolled back, after a full read too: whatever the query's
functions did is undone. A stop of the run cancels the running statement.

Only the mapped columns come over, each value capped (`postgres_capped`): an unmapped
column of megabytes, or a mapped value of a gigabyte, is never sent to syncd (a fetch of
5,000 such rows once took it past a gigabyte).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import timedelta
from typing import Literal

import psycopg
from psycopg import errors as pg_errors

from syncd.errors import SourceInvalid, SourceUnavailable
from syncd.sources.base import (
    Row,
    Stopping,
    never,
    project,
    stopped,
)
from syncd.sources.error_values import POSTGRES_MESSAGES, values_hidden
from syncd.sources.passwords import without_password
from syncd.sources.postgres_capped import capped, uncapped
from syncd.sources.postgres_loaders import as_written_when_out_of_range

# Errors that say "the query, the schema or the connection string is wrong", not "try
# again later". ProgrammingError is SQLSTATE class 42 (syntax, undefined names,
# privileges) and a malformed connection string; NotSupportedError is, among others, a
# data-modifying WITH, which a cursor refuses.
_PERMANENT = (
    psycopg.ProgrammingError,
    psycopg.NotSupportedError,
    psycopg.DataError,
    pg_errors.ReadOnlySqlTransaction,
    pg_errors.InvalidCatalogName,
    pg_errors.InvalidPassword,
    pg_errors.InvalidAuthorizationSpecification,
)
STOP_POLL = 0.25
"""Seconds between two looks at the stop signal while a statement runs on the server."""
FETCH_MAPPED_ROWS = 1000
"""Rows a fetch brings: at most this many times the mapped columns' capped bytes."""


class PostgresQuery:
    def __init__(
        self,
        dsn: str,
        query: str,
        *,
        statement_timeout: timedelta,
        name: str,
        stopping: Stopping = never,
    ) -> None:
        self._dsn = dsn
        self.query = query
        # Rounded up, never to 0: PostgreSQL reads 0 as no limit (0.0009s was one).
        self.statement_timeout_ms = max(1, math.ceil(statement_timeout.total_seconds() * 1000))
        self.description = f"postgres segment {name}"
        self._stopping = stopping

    def rows(self, columns: Sequence[str]) -> Iterator[Row]:
        try:
            connection = psycopg.connect(self._dsn, connect_timeout=10, application_name="syncd")
        except _PERMANENT as error:
            raise SourceInvalid(
                f"{self.description}: cannot connect: {self._said(error, ran=False)}"
            ) from None
        except psycopg.Error as error:
            raise SourceUnavailable(
                f"{self.description}: cannot connect: {self._said(error, ran=False)}"
            ) from None
        watch = ReadWatch(connection, self.statement_timeout_ms / 1000, self._stopping)
        try:
            as_written_when_out_of_range(connection)
            with watch.watching():
                yield from self._stream(connection, columns, watch)
        finally:
            connection.close()

    def _stream(
        self, connection: psycopg.Connection, columns: Sequence[str], watch: ReadWatch
    ) -> Iterator[Row]:
        try:
            with connection.transaction(force_rollback=True):
                connection.execute("SET TRANSACTION READ ONLY")
                connection.execute(
                    "SELECT set_config('statement_timeout', %s, true)",
                    (str(self.statement_timeout_ms),),
                )
                # Declared, not run: what columns the query has, nothing fetched.
                with connection.cursor(name="syncd_columns") as probe, watch.calling():
                    probe.execute(self.query)
                    if probe.description is None:
                        raise SourceInvalid(f"{self.description}: the query returns no rows")
                    names = [d.name for d in probe.description]
                project(names, columns, self.description)  # missing or repeated: refused
                with connection.cursor(name="syncd_segment") as cursor:
                    with watch.calling():
                        cursor.execute(capped(self.query, columns, connection))
                    number = 0
                    while True:
                        with watch.calling():
                            batch = cursor.fetchmany(FETCH_MAPPED_ROWS)
                        if not batch:
                            break
                        for record in batch:
                            number += 1
                            yield number, uncapped(record, len(columns))
                        if self._stopping():
                            raise stopped(self.description)
        except _PERMANENT as error:
            raise SourceInvalid(f"{self.description}: {self._said(error)}") from None
        except pg_errors.QueryCanceled:
            if watch.ended_by == "stopping":
                raise stopped(self.description) from None
            raise SourceUnavailable(
                f"{self.description}: the query ran longer than statementTimeout "
                f"({self.statement_timeout_ms / 1000:g}s)"
            ) from None
        except psycopg.Error as error:
            raise SourceUnavailable(f"{self.description}: {self._said(error)}") from None

    def _said(self, error: BaseException, *, ran: bool = True) -> str:
        """The error's first line, with no secret, address or spelling of the password,
        and once the query `ran`, no value from the rows (`invalid input syntax for type
        integer: "…"`). Before it, the names quoted (host, database, role) are the DSN's,
        and what fixing it needs."""
        lines = str(error).strip().splitlines()
        text = lines[0] if lines else type(error).__name__
        if ran:
            text = values_hidden(text, self.query, POSTGRES_MESSAGES)
        return without_password(text, self._dsn)


class ReadWatch:
    """The query's time in PostgreSQL, summed over its calls (its start and each fetch: the
    time between fetches is syncd's), and the run's stop. A thread cancels the statement
    on the server when either ends the read: `statement_timeout` alone limits each fetch,
    so a query whose rows kept coming (a recursive `WITH` without end) never ended, and a
    worker thread blocked in libpq sees no signal."""

    def __init__(self, connection: psycopg.Connection, limit_s: float, stopping: Stopping):
        self._connection = connection
        self._limit = limit_s
        self._stopping = stopping
        self._spent = 0.0
        self._since: float | None = None
        self._lock = threading.Lock()
        self.ended_by: Literal["stopping", "timeout"] | None = None

    @contextmanager
    def calling(self) -> Iterator[None]:
        """One call into PostgreSQL, timed; none once the read is over its limit or
        stopping (a cancel that reached the server between two calls cancelled nothing)."""
        if self.ended_by is None and self._stopping():
            self.ended_by = "stopping"
        elif self.ended_by is None and self._spent > self._limit:
            self.ended_by = "timeout"
        if self.ended_by is not None:
            raise pg_errors.QueryCanceled("ended by syncd before the call")
        with self._lock:
            self._since = time.monotonic()
        try:
            yield
        finally:
            with self._lock:
                self._spent += time.monotonic() - (self._since or 0.0)
                self._since = None

    def _over(self) -> Literal["stopping", "timeout"] | None:
        """Why the call running now must end, if one runs and must."""
        with self._lock:
            running = 0.0 if self._since is None else time.monotonic() - self._since
            spent = self._spent + running
        if not running:
            return None
        if self._stopping():
            return "stopping"
        return "timeout" if spent > self._limit else None

    @contextmanager
    def watching(self) -> Iterator[None]:
        done = threading.Event()

        def watch() -> None:
            while not done.wait(STOP_POLL):
                if (why := self._over()) is not None:
                    self.ended_by = self.ended_by or why
                    # Again at each look while a call runs: one that reached the server
                    # between two calls cancelled nothing (`calling` refuses the next).
                    with suppress(psycopg.Error):
                        self._connection.cancel_safe()

        watcher = threading.Thread(target=watch, name="syncd-postgres-watch", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            done.set()
            watcher.join()
