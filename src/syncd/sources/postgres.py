"""A PostgreSQL query, streamed with a server-side cursor in a read-only transaction."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta

import psycopg
from psycopg import errors as pg_errors

from syncd.errors import SourceInvalid, SourceUnavailable
from syncd.logs import scrub
from syncd.sources.base import FETCH_ROWS, Row, project

# Errors that say "the query or the schema is wrong", not "try again later".
_PERMANENT = (
    pg_errors.SyntaxError,
    pg_errors.UndefinedTable,
    pg_errors.UndefinedColumn,
    pg_errors.UndefinedFunction,
    pg_errors.InsufficientPrivilege,
    pg_errors.ReadOnlySqlTransaction,
    pg_errors.DataError,
    pg_errors.InvalidCatalogName,
    pg_errors.InvalidPassword,
    pg_errors.InvalidAuthorizationSpecification,
)


def _message(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return scrub(text[0] if text else type(error).__name__)


class PostgresQuery:
    def __init__(self, dsn: str, query: str, *, statement_timeout: timedelta, name: str) -> None:
        self._dsn = dsn
        self.query = query
        self.statement_timeout_ms = int(statement_timeout.total_seconds() * 1000)
        self.description = f"postgres segment {name}"

    def rows(self, columns: Sequence[str]) -> Iterator[Row]:
        try:
            connection = psycopg.connect(self._dsn, connect_timeout=10, application_name="syncd")
        except _PERMANENT as error:
            raise SourceInvalid(f"{self.description}: cannot connect: {_message(error)}") from None
        except psycopg.Error as error:
            raise SourceUnavailable(
                f"{self.description}: cannot connect: {_message(error)}"
            ) from None
        try:
            yield from self._stream(connection, columns)
        finally:
            connection.close()

    def _stream(self, connection: psycopg.Connection, columns: Sequence[str]) -> Iterator[Row]:
        try:
            with connection.transaction():
                connection.execute("SET TRANSACTION READ ONLY")
                connection.execute(
                    "SELECT set_config('statement_timeout', %s, true)",
                    (str(self.statement_timeout_ms),),
                )
                with connection.cursor(name="syncd_segment") as cursor:
                    cursor.itersize = FETCH_ROWS
                    cursor.execute(self.query)
                    if cursor.description is None:
                        raise SourceInvalid(f"{self.description}: the query returns no rows")
                    names = [d.name for d in cursor.description]
                    positions = project(names, columns, self.description)
                    for number, record in enumerate(cursor, start=1):
                        yield number, [record[i] for i in positions]
        except _PERMANENT as error:
            raise SourceInvalid(f"{self.description}: {_message(error)}") from None
        except pg_errors.QueryCanceled:
            raise SourceUnavailable(
                f"{self.description}: the query ran longer than statementTimeout "
                f"({self.statement_timeout_ms / 1000:.0f}s)"
            ) from None
        except psycopg.Error as error:
            raise SourceUnavailable(f"{self.description}: {_message(error)}") from None
