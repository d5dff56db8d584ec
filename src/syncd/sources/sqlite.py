"""A SQLite database file and a query, read-only."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import quote

from syncd.errors import SourceInvalid, SourceUnavailable
from syncd.sources.base import FETCH_ROWS, Row, project


class SqliteQuery:
    def __init__(self, path: Path, query: str) -> None:
        self.path = path
        self.query = query
        self.description = f"sqlite {path.name}"

    def rows(self, columns: Sequence[str]) -> Iterator[Row]:
        if not self.path.is_file():
            raise SourceUnavailable(f"{self.description}: {self.path} does not exist")
        try:
            connection = sqlite3.connect(
                f"file:{quote(str(self.path))}?mode=ro", uri=True, check_same_thread=False
            )
        except sqlite3.Error as error:
            raise SourceUnavailable(f"{self.description}: cannot open: {error}") from None
        try:
            connection.execute("PRAGMA query_only = ON")
            try:
                cursor = connection.execute(self.query)
            except sqlite3.OperationalError as error:
                if "locked" in str(error) or "busy" in str(error):
                    raise SourceUnavailable(f"{self.description}: {error}") from None
                raise SourceInvalid(f"{self.description}: the query failed: {error}") from None
            except sqlite3.Error as error:
                raise SourceInvalid(f"{self.description}: the query failed: {error}") from None
            if cursor.description is None:
                raise SourceInvalid(f"{self.description}: the query returns no rows (not a SELECT)")
            names = [d[0] for d in cursor.description]
            positions = project(names, columns, self.description)
            number = 0
            while batch := cursor.fetchmany(FETCH_ROWS):
                for record in batch:
                    number += 1
                    yield number, [record[i] for i in positions]
        finally:
            connection.close()
