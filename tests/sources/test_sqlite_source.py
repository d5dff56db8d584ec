"""The SQLite reader against real database files: it reads, and does nothing else."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from syncd.errors import SourceInvalid, SourceUnavailable, SyncdError
from syncd.sources.base import Row
from syncd.sources.sqlite import SqliteQuery
from syncd.sources.sqlite_rules import ReadOnly

ENDLESS = (
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) "
    "SELECT x AS Email FROM n WHERE x < 0"
)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "people.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE people (Email TEXT, Name TEXT)")
        db.executemany(
            "INSERT INTO people VALUES (?, ?)",
            [(f"person.{n}@example.com", f"Person {n}") for n in range(12_000)],
        )
    db.close()
    return path


def read(database: Path, query: str, **options: object) -> list[Row]:
    return list(SqliteQuery(database, query, **options).rows(["Email"]))  # type: ignore[arg-type]


def outcome_within(seconds: float, work: Callable[[], object]) -> BaseException | None:
    """Run `work` in a thread (as a run does); its error, or a failure if it never ends."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            work()
        except BaseException as error:  # handed to the test
            errors.append(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"the read still runs after {seconds}s"
    return errors[0] if errors else None


def test_a_select_streams_every_row_in_order(database: Path) -> None:
    rows = read(database, "SELECT Email FROM people ORDER BY rowid")
    assert len(rows) == 12_000
    assert rows[0] == (1, ["person.0@example.com"])
    assert rows[-1] == (12_000, ["person.11999@example.com"])


def test_comments_before_the_select_are_fine(database: Path) -> None:
    query = "-- the VIPs\n/* all of them */ WITH p AS (SELECT * FROM people) SELECT Email FROM p"
    assert len(read(database, query)) == 12_000


@pytest.mark.parametrize(
    ("query", "refused"),
    [
        ("ATTACH DATABASE '{dir}/attached.db' AS elsewhere", "ATTACH is refused"),
        ("VACUUM INTO '{dir}/copy.db'", "VACUUM is refused"),
        ("PRAGMA query_only = OFF", "PRAGMA is refused"),
        ("DELETE FROM people", "DELETE is refused"),
        ("BEGIN IMMEDIATE", "BEGIN is refused"),
        ("WITH doomed AS (SELECT 1) DELETE FROM people", "DELETE is refused"),
        ("WITH w AS (SELECT 1) INSERT INTO people VALUES ('x', 'y')", "INSERT is refused"),
        (
            "SELECT load_extension('{dir}/evil') AS Email",
            "the function load_extension() is refused",
        ),
        ("  ", "it has no statement"),
    ],
)
def test_anything_but_reading_is_refused_and_leaves_no_file(
    database: Path, query: str, refused: str
) -> None:
    before = sorted(database.parent.iterdir())
    with pytest.raises(SourceInvalid) as caught:
        read(database, query.format(dir=database.parent))
    assert caught.value.message.startswith("sqlite people.db: the query may only read: ")
    assert refused in caught.value.message
    assert sorted(database.parent.iterdir()) == before
    assert len(read(database, "SELECT Email FROM people")) == 12_000


def test_the_authorizer_refuses_attach_and_no_database_may_be_attached_anyway(
    database: Path,
) -> None:
    # Below the first-word check: the rules and the limit hold on their own.
    target = database.parent / "attached.db"
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    rules = ReadOnly()
    connection.set_authorizer(rules.decide)
    with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
        connection.execute(f"ATTACH DATABASE '{target}' AS elsewhere")
    assert rules.refused == "ATTACH"
    connection.set_authorizer(None)
    connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    with pytest.raises(sqlite3.OperationalError, match="too many attached databases"):
        connection.execute(f"VACUUM INTO '{target}'")
    connection.close()
    assert not target.exists()


def test_an_endless_query_ends_at_its_time_limit_and_is_tried_again_later(
    database: Path,
) -> None:
    error = outcome_within(
        30, lambda: read(database, ENDLESS, statement_timeout=timedelta(seconds=0.2))
    )
    assert isinstance(error, SourceUnavailable)
    assert error.message == (
        "sqlite people.db: the query ran longer than statementTimeout (0.2s); "
        "it is tried again later"
    )


def test_an_endless_stream_of_rows_also_ends_at_the_time_limit(database: Path) -> None:
    endless_rows = ENDLESS.replace(" WHERE x < 0", "")
    source = SqliteQuery(database, endless_rows, statement_timeout=timedelta(seconds=0.2))

    def drain() -> None:
        for _ in source.rows(["Email"]):
            pass

    error = outcome_within(60, drain)
    assert isinstance(error, SourceUnavailable)
    assert "longer than statementTimeout" in error.message


def test_the_stop_signal_interrupts_a_running_query(database: Path) -> None:
    looks = 0

    def stopping() -> bool:
        nonlocal looks
        looks += 1
        return looks > 3  # the watcher's fourth look

    error = outcome_within(30, lambda: read(database, ENDLESS, stopping=stopping))
    assert isinstance(error, SyncdError)
    assert error.message == "stopping: sqlite people.db was not read to the end"


SLOW_STEPS = (
    # Twelve rows, each one call of trim() that takes about half a second (60,000
    # characters against a set of 3,001): a few hundred virtual-machine steps in all, so
    # a progress handler looked at every thousand steps never saw the clock.
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 12) "
    "SELECT x || trim(printf('%.*c', 60000 + x % 2, 'a'), printf('%.*c', 3000, 'b') || 'a')"
    " || '@example.com' AS Email FROM n"
)


def test_a_query_of_few_slow_steps_ends_at_its_time_limit(database: Path) -> None:
    error = outcome_within(
        60, lambda: read(database, SLOW_STEPS, statement_timeout=timedelta(seconds=0.2))
    )
    assert isinstance(error, SourceUnavailable)
    assert "longer than statementTimeout (0.2s)" in error.message


def test_the_stop_signal_interrupts_a_slow_step_before_any_row_is_read(database: Path) -> None:
    looks = 0

    def stopping() -> bool:
        nonlocal looks
        looks += 1
        return looks > 1  # turns true once the query has begun

    read_rows: list[Row] = []

    def work() -> None:
        read_rows.extend(SqliteQuery(database, SLOW_STEPS, stopping=stopping).rows(["Email"]))

    error = outcome_within(60, work)
    assert isinstance(error, SyncdError)
    assert error.message == "stopping: sqlite people.db was not read to the end"
    assert read_rows == []  # ended inside the first fetch, not after it


def test_the_time_between_two_fetches_is_not_the_querys(database: Path) -> None:
    rows = SqliteQuery(
        database, "SELECT Email FROM people", statement_timeout=timedelta(seconds=0.3)
    ).rows(["Email"])
    assert next(rows) == (1, ["person.0@example.com"])
    time.sleep(0.6)  # syncd's time: the budget is SQLite's
    assert sum(1 for _ in rows) == 11_999


def test_the_stop_signal_ends_a_read_between_two_fetches(database: Path) -> None:
    stop = threading.Event()
    rows = SqliteQuery(database, "SELECT Email FROM people", stopping=stop.is_set).rows(["Email"])
    assert next(rows) == (1, ["person.0@example.com"])
    stop.set()
    with pytest.raises(SourceUnavailable, match=r"^stopping: "):
        for _ in rows:
            pass


def test_a_failing_query_is_permanent_and_names_the_problem(database: Path) -> None:
    with pytest.raises(SourceInvalid, match="the query failed: no such table: nobody"):
        read(database, "SELECT Email FROM nobody")


def test_a_failing_query_never_quotes_a_value_of_the_rows(database: Path) -> None:
    # A pull request's query made SQLite echo a value into the plan CI prints.
    with pytest.raises(SourceInvalid) as caught:
        read(database, "SELECT json_extract('{}', Name) AS Email FROM people")
    message = caught.value.message
    assert "Person" not in message, message
    assert message.endswith("the query failed: JSON path error near '…'"), message
    with pytest.raises(SourceInvalid) as caught:  # a mistyped query's message stays whole
        read(database, "SELECT Email FROM people WHERE WHERE")
    assert caught.value.message.endswith('the query failed: near "WHERE": syntax error')


@pytest.mark.parametrize(
    "query",
    [
        "SELECT Email, randomblob(2000000) AS Blob FROM people",
        "SELECT Email, zeroblob(50000000) AS Blob FROM people",
        "SELECT Email, Note FROM notes",  # stored before the limit, read with it
        "SELECT Email FROM notes WHERE hex(Note) <> ''",  # read, not selected
        # One call over long values can be quadratic (this one took 18 s at a limit of
        # 1 MiB) and SQLite is interrupted only once it returns: the limit keeps every
        # value such a call takes short.
        "SELECT Email, instr(zeroblob(1000000), zeroblob(500000) || x'01') AS At FROM people",
    ],
)
def test_a_value_over_the_limit_is_refused_before_it_is_held(database: Path, query: str) -> None:
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE notes (Email TEXT, Note BLOB)")
        connection.execute("INSERT INTO notes VALUES ('a@example.com', zeroblob(65537))")
    error = outcome_within(30, lambda: read(database, query))
    assert isinstance(error, SourceInvalid)
    assert error.message == (
        "sqlite people.db: a value the query reads or makes is longer than the limit of "
        "64 KiB; select only the mapped columns, or cut the value short (substr)"
    )


def test_a_value_at_the_limit_is_read(database: Path) -> None:
    rows = read(database, "SELECT Email, zeroblob(65536) AS Blob FROM people LIMIT 1")
    assert rows == [(1, ["person.0@example.com"])]


def test_a_long_like_pattern_is_refused_before_it_is_compared(database: Path) -> None:
    # A LIKE costs the value's length times the pattern's in one call into SQLite.
    query = "SELECT Email FROM people WHERE Email LIKE '%' || printf('%.*c', 1000, 'a') || 'b'"
    error = outcome_within(30, lambda: read(database, query))
    assert isinstance(error, SourceInvalid)
    assert error.message == "sqlite people.db: the query failed: LIKE or GLOB pattern too complex"
    assert len(read(database, "SELECT Email FROM people WHERE Email LIKE '%.1_@%'")) == 10


@pytest.mark.parametrize("suffix", ["-journal", "-wal", "-shm"])
def test_a_fifo_beside_the_database_is_refused_before_sqlite_opens_it(
    database: Path, suffix: str
) -> None:
    # SQLite looks for a hot journal at every open, blocking on a FIFO there: the read hung
    # for ever, past its time limit and past SIGTERM.
    fifo = database.with_name(database.name + suffix)
    os.mkfifo(fifo)
    try:
        error = outcome_within(10, lambda: read(database, "SELECT Email FROM people"))
    finally:  # a read blocked on the FIFO (the fault) is let go, so the suite can end
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert isinstance(error, SourceUnavailable)
    assert error.message == (
        f"sqlite people.db: people.db{suffix} beside the database is not a regular file; remove it"
    )


WIDE = """
import re, sys
from pathlib import Path
from syncd.sources.sqlite import SqliteQuery
rows = sum(1 for _ in SqliteQuery(Path(sys.argv[1]), sys.argv[2]).rows(["Email"]))
status = Path("/proc/self/status").read_text()
print(rows, int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) // 1024)
"""


def peak_mib(database: Path, query: str) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, "-c", WIDE, str(database), query],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split()
    return int(out[0]), int(out[1])


@pytest.mark.slow
def test_rows_of_values_at_the_length_limit_are_fetched_a_few_at_a_time(database: Path) -> None:
    # 5,000 rows a fetch, each with a value of a MiB (the limit then): 850 MB for 800 rows.
    rows, small = peak_mib(database, "SELECT Email FROM people LIMIT 800")
    wide, peak = peak_mib(database, "SELECT Email, zeroblob(65536) AS pad FROM people LIMIT 800")
    assert (rows, wide) == (800, 800)
    assert peak - small < 100, f"memory grew {peak - small} MiB"
