"""PostgreSQL values Python cannot hold, and a read whose rows never stop: each fails
only what it must (real server)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, cast

import pytest
from psycopg.errors import QueryCanceled

from syncd.contacts.values import Refused, calendar_date
from syncd.errors import SourceUnavailable
from syncd.sources.base import BadRow
from syncd.sources.postgres import ReadWatch
from tests.sources.test_postgres_source import query, warehouse

pytestmark = pytest.mark.postgres
__all__ = ["warehouse"]


def test_dates_and_times_python_cannot_hold_come_as_written_and_fail_only_their_row(
    warehouse: str,
) -> None:
    # One `infinity` among a million dates failed the whole segment: psycopg raised for
    # the fetch, and the destination stalled. They come as PostgreSQL writes them now, so
    # a Date field refuses that row alone ("not a date") and a Text field takes the text.
    sql = (
        "SELECT * FROM (VALUES "
        "('a@example.com', DATE '2020-02-03', TIMESTAMPTZ '2020-01-01 10:00+00', "
        "TIME '10:30', INTERVAL '2 days'), "
        "('b@example.com', DATE 'infinity', TIMESTAMPTZ '-infinity', TIME '24:00', "
        "INTERVAL '100000000 years'), "
        "('c@example.com', DATE '0044-03-15 BC', TIMESTAMPTZ '10000-01-01 00:00+00', "
        "TIME '23:59', INTERVAL '1 hour'), "
        "('d@example.com', DATE '2021-01-01', TIMESTAMP 'infinity', NULL, NULL)"
        ") AS t(email, born, seen, at, spent)"
    )
    columns = ["email", "born", "seen", "at", "spent"]
    read = [values for _, values in query(warehouse, sql).rows(columns)]
    assert not any(isinstance(row, BadRow) for row in read)
    rows = cast(list[list[Any]], read)
    assert [row[0] for row in rows] == [f"{c}@example.com" for c in "abcd"]
    assert rows[0][1:] == [
        date(2020, 2, 3),
        datetime(2020, 1, 1, 10, 0, tzinfo=UTC),
        time(10, 30),
        "2 days",
    ]
    assert rows[1][1:] == ["infinity", "-infinity", "24:00:00", "100000000 years"]
    assert rows[2][1] == "0044-03-15 BC"
    assert rows[2][2].startswith("10000-01-01 00:00:00")
    assert rows[3][2] == "infinity"
    for written in ("infinity", "0044-03-15 BC", rows[2][2]):
        with pytest.raises(Refused, match="not a date"):
            calendar_date(written)


@pytest.mark.parametrize(
    "endless",
    [
        # Rows that never stop coming, each fetch of 1,000 quick: statement_timeout limits
        # each fetch, so the read went on for ever (one address: no maxProfiles either).
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
        "SELECT 'a@example.com'::text AS email FROM r WHERE pg_sleep(0.0005)::text = ''",
        # The query lifting its own limit for what follows.
        "SELECT 'a@example.com'::text AS email FROM set_config('statement_timeout', '0', true),"
        " generate_series(1, 100000000) AS n WHERE pg_sleep(0.0005)::text = ''",
    ],
)
def test_the_time_limit_bounds_the_whole_read_not_each_fetch(warehouse: str, endless: str) -> None:
    read = query(warehouse, endless, timeout=1.5).rows(["email"])
    with pytest.raises(SourceUnavailable, match=r"longer than statementTimeout \(1.5s\)"):
        for _ in read:
            pass


def test_a_read_over_its_limit_makes_no_further_call_even_if_no_cancel_landed() -> None:
    # The watcher cancelled once and stopped watching: a cancel that reached the server
    # between two fetches cancelled nothing, and the endless read went on.
    watch = ReadWatch(cast(Any, None), limit_s=0.0, stopping=lambda: False)
    with watch.calling():
        pass  # a fetch that took longer than the limit, answered before any cancel
    with pytest.raises(QueryCanceled), watch.calling():
        pytest.fail("a call made past the limit")
    assert watch.ended_by == "timeout"


def test_json_nested_deeper_than_python_goes_comes_as_its_text(warehouse: str) -> None:
    # RecursionError in psycopg's loader failed the whole segment as unexpected, every run.
    sql = (
        "SELECT 'a@example.com' AS email, (repeat('[', 2000) || repeat(']', 2000))::jsonb AS j"
        " UNION ALL SELECT 'b@example.com', '{\"x\": 1}'::jsonb"
    )
    rows = [values for _, values in query(warehouse, sql).rows(["email", "j"])]
    assert rows == [["a@example.com", "[" * 2000 + "]" * 2000], ["b@example.com", {"x": 1}]]


def test_bytes_intervals_and_ranges_come_as_postgresql_writes_them(warehouse: str) -> None:
    # A Text field was sent Python's spelling of them (`b'\\xde\\xad'`, `2 days, 3:00:00`,
    # `[1, 5)`), not what anybody reading the table sees.
    sql = (
        "SELECT 'a@example.com' AS email, '\\xdead'::bytea AS b,"
        " interval '2 days 3 hours' AS i, int4range(1, 5) AS r,"
        " daterange('2020-01-01', 'infinity') AS d, '{[1,3)}'::int4multirange AS m"
    )
    (row,) = [
        values for _, values in query(warehouse, sql).rows(["email", "b", "i", "r", "d", "m"])
    ]
    assert row == [
        "a@example.com",
        "\\xdead",
        "2 days 03:00:00",
        "[1,5)",
        "[2020-01-01,infinity)",
        "{[1,3)}",
    ]
