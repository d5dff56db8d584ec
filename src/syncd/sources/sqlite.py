"""A SQLite database file and a query: read-only, time-limited, stoppable.

`mode=ro` and `query_only` stop writes to the database, not side effects elsewhere:
`ATTACH` and `VACUUM INTO` create files at any writable path. So the query must start
as a read does (SELECT, WITH or VALUES), an authorizer refuses every action but reading,
and no database may be attached. A watcher thread interrupts the query once it has
run longer than its time limit, or as soon as the run is stopping (`sqlite_watch`). No
value may be longer than `MAX_VALUE_BYTES`: a query's one huge value would otherwise be
held, and encoded, whole.
"""

from __future__ import annotations

import re
import sqlite3
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from syncd.errors import SourceInvalid, SourceUnavailable
from syncd.sources.base import (
    MAX_VALUE_BYTES,
    Row,
    Stopping,
    never,
    project,
    stopped,
)
from syncd.sources.error_values import SQLITE_MESSAGES, values_hidden
from syncd.sources.lines import SWAPPED
from syncd.sources.opened import descriptors, newly_opened_as, one_at_a_time
from syncd.sources.sqlite_rules import ReadOnly
from syncd.sources.sqlite_watch import Watch

READS = ("SELECT", "WITH", "VALUES")
FETCH_BYTES = 64 << 20
"""The most a fetch of rows may hold, were every value of its rows at the length limit."""
LIKE_PATTERN_BYTES = 1000
"""The longest pattern of a LIKE or GLOB (a segment's are a few words long)."""
COMPANIONS = ("-journal", "-wal", "-shm")
"""What SQLite may open beside a database file (its rollback journal, WAL and index)."""
_FIRST_WORD = re.compile(r"(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?(?:\*/|\Z))*([A-Za-z]*)", re.S)


class SqliteQuery:
    def __init__(
        self,
        path: Path,
        query: str,
        *,
        statement_timeout: timedelta = timedelta(minutes=10),
        stopping: Stopping = never,
    ) -> None:
        self.path = path
        self.query = query
        self.statement_timeout = statement_timeout
        self.description = f"sqlite {path.name}"
        self._stopping = stopping

    def rows(self, columns: Sequence[str]) -> Iterator[Row]:
        first = _FIRST_WORD.match(self.query)
        word = first.group(1).upper() if first else ""
        if word not in READS:
            refused = f"{word} is refused" if word else "it has no statement"
            raise SourceInvalid(
                f"{self.description}: the query may only read: {refused}; write a SELECT"
            )
        if not self.path.is_file():
            state = "does not exist" if not self.path.exists() else "is not a regular file"
            raise SourceUnavailable(f"{self.description}: {self.path} {state}")
        self._check_companions()
        rules = ReadOnly()
        connection = self._connect(rules)
        watch = Watch(connection.interrupt, self.statement_timeout, self._stopping)
        try:
            cursor = connection.cursor()
            with self._running(rules, watch):
                cursor.execute(self.query)
            if cursor.description is None:
                raise SourceInvalid(f"{self.description}: the query returns no rows (not a SELECT)")
            names = [d[0] for d in cursor.description]
            positions = project(names, columns, self.description)
            # Each value may be at the length limit: a fetch holds at most about
            # FETCH_BYTES of them, whatever the query selects (5,000 rows of a padding
            # column once took 850 MB). Fetching 64 rows at a time costs no more than 5,000.
            fetch = max(1, FETCH_BYTES // (MAX_VALUE_BYTES * len(names)))
            number = 0
            while True:
                with self._running(rules, watch):
                    batch = cursor.fetchmany(fetch)
                if not batch:
                    break
                for record in batch:
                    number += 1
                    yield number, [record[i] for i in positions]
                if self._stopping():
                    raise stopped(self.description)
        finally:
            watch.close()
            with one_at_a_time():
                connection.close()

    def _check_companions(self) -> None:
        """The files SQLite opens beside the database (a hot journal is looked for at
        every open) must be regular files or absent: a FIFO there blocks the open in a
        thread nothing can interrupt, and no time limit or stop reaches it."""
        for suffix in COMPANIONS:
            companion = self.path.with_name(self.path.name + suffix)
            try:
                mode = companion.stat().st_mode
            except FileNotFoundError:
                continue
            except OSError as error:
                raise SourceUnavailable(
                    f"{self.description}: cannot look at {companion.name}: {error.strerror}"
                ) from None
            if not stat.S_ISREG(mode):
                raise SourceUnavailable(
                    f"{self.description}: {companion.name} beside the database is not a "
                    "regular file; remove it"
                )

    def _connect(self, rules: ReadOnly) -> sqlite3.Connection:
        with one_at_a_time():
            before = descriptors()
            try:
                connection = sqlite3.connect(
                    f"file:{quote(str(self.path))}?mode=ro",
                    uri=True,
                    check_same_thread=False,
                    isolation_level=None,  # never an implicit BEGIN
                )
                connection.execute("PRAGMA query_only = ON")
            except sqlite3.Error as error:
                raise SourceUnavailable(f"{self.description}: cannot open: {error}") from None
            if not newly_opened_as(before, self.path):
                connection.close()
                raise SourceUnavailable(SWAPPED.format(what=self.description, path=self.path))
        connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)  # VACUUM INTO attaches too
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
        # A LIKE or GLOB costs the value's length times the pattern's in one operation:
        # SQLite's 50,000 made one comparison take seconds.
        connection.setlimit(sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, LIKE_PATTERN_BYTES)
        connection.set_authorizer(rules.decide)
        return connection

    @contextmanager
    def _running(self, rules: ReadOnly, watch: Watch) -> Iterator[None]:
        """One call into SQLite: timed, and its errors said as what to do."""
        try:
            with watch.running():
                yield
        except sqlite3.Error as error:
            raise self._ended(watch) or self._failure(error, rules) from None
        # The watcher may interrupt as a call returns: the budget ran out all the same.
        if ended := self._ended(watch):
            raise ended

    def _ended(self, watch: Watch) -> SourceUnavailable | None:
        if watch.ended_by == "stopping":
            return stopped(self.description)
        if watch.ended_by == "timeout":
            return SourceUnavailable(
                f"{self.description}: the query ran longer than statementTimeout "
                f"({watch.limit:g}s); it is tried again later"
            )
        return None

    def _failure(self, error: sqlite3.Error, rules: ReadOnly) -> SourceInvalid | SourceUnavailable:
        if rules.refused:
            return SourceInvalid(
                f"{self.description}: the query may only read: {rules.refused} is refused"
            )
        if getattr(error, "sqlite_errorname", "") == "SQLITE_TOOBIG":
            return SourceInvalid(
                f"{self.description}: a value the query reads or makes is longer than the "
                f"limit of {MAX_VALUE_BYTES >> 10} KiB; select only the mapped columns, or cut "
                "the value short (substr)"
            )
        said = values_hidden(str(error), self.query, SQLITE_MESSAGES)
        if "locked" in said or "busy" in said:
            return SourceUnavailable(f"{self.description}: {said}")
        return SourceInvalid(f"{self.description}: the query failed: {said}")
