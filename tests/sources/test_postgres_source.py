"""The postgres source against a real server: streaming, read-only, clear errors."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import psycopg
import pytest

from syncd.errors import SourceInvalid, SourceUnavailable
from syncd.sources.base import BadRow
from syncd.sources.postgres import PostgresQuery

pytestmark = pytest.mark.postgres


@pytest.fixture
def warehouse(postgres_dsn: str) -> str:
    with psycopg.connect(postgres_dsn, autocommit=True) as db:
        db.execute(
            b"CREATE TABLE profiles AS SELECT n AS id, 'person.' || n || '@example.com' AS email,"
            b" 'First' || n AS first_name FROM generate_series(1, 1000000) AS n"
        )
        db.execute(b"CREATE SEQUENCE counter")
    return postgres_dsn


def query(dsn: str, sql: str, timeout: float = 60) -> PostgresQuery:
    return PostgresQuery(dsn, sql, statement_timeout=timedelta(seconds=timeout), name="s")


def test_rows_come_projected_and_numbered(warehouse: str) -> None:
    rows = list(
        query(warehouse, "SELECT * FROM profiles WHERE id <= 3 ORDER BY id").rows(
            ["email", "first_name"]
        )
    )
    assert rows == [
        (1, ["person.1@example.com", "First1"]),
        (2, ["person.2@example.com", "First2"]),
        (3, ["person.3@example.com", "First3"]),
    ]


MEASURE = """
import resource, sys
from datetime import timedelta
from syncd.sources.postgres import PostgresQuery
dsn, limit = sys.argv[1], int(sys.argv[2])
source = PostgresQuery(dsn, f"SELECT email, first_name FROM profiles WHERE id <= {limit}",
                       statement_timeout=timedelta(minutes=5), name="s")
count = sum(1 for _ in source.rows(["email", "first_name"]))
print(count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_kib(dsn: str, limit: int) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, dsn, str(limit)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout.split()
    return int(out[0]), int(out[1])


def test_a_million_rows_stream_with_flat_memory(warehouse: str) -> None:
    small_rows, small_peak = peak_rss_kib(warehouse, 10_000)
    big_rows, big_peak = peak_rss_kib(warehouse, 1_000_000)
    assert (small_rows, big_rows) == (10_000, 1_000_000)
    growth_mib = (big_peak - small_peak) / 1024
    print(f"peak RSS: {small_peak / 1024:.0f} MiB for 10k rows, {big_peak / 1024:.0f} MiB for 1M")
    assert growth_mib < 15, f"memory grew {growth_mib:.0f} MiB between 10k and 1M rows"


def test_bad_sql_is_a_permanent_error_naming_the_problem(warehouse: str) -> None:
    with pytest.raises(SourceInvalid, match="syntax error"):
        list(query(warehouse, "SELEC email FROM profiles").rows(["email"]))
    with pytest.raises(SourceInvalid, match='relation "nowhere" does not exist'):
        list(query(warehouse, "SELECT email FROM nowhere").rows(["email"]))


def test_a_missing_column_suggests_a_near_name_without_listing_the_columns(
    warehouse: str,
) -> None:
    with pytest.raises(SourceInvalid) as caught:
        list(query(warehouse, "SELECT id, email FROM profiles LIMIT 1").rows(["Email"]))
    assert caught.value.message == (
        "postgres segment s: column 'Email' not found among the source's 2 columns (names "
        "must match exactly; did you mean 'email' for 'Email'?); fix spec.mapping or the source"
    )


def test_the_query_runs_in_a_read_only_transaction(warehouse: str) -> None:
    with pytest.raises(SourceInvalid, match="read-only transaction"):
        list(query(warehouse, "SELECT nextval('counter')::text AS email").rows(["email"]))
    with pytest.raises(SourceInvalid, match="syntax error"):  # and only a query is accepted
        list(query(warehouse, "DELETE FROM profiles RETURNING email").rows(["email"]))


def test_a_slow_query_hits_the_statement_timeout_and_is_retried_later(warehouse: str) -> None:
    with pytest.raises(SourceUnavailable, match="longer than statementTimeout"):
        list(query(warehouse, "SELECT pg_sleep(5) AS email", timeout=0.2).rows(["email"]))


def test_an_unreachable_server_is_temporary_and_never_shows_the_password() -> None:
    dsn = "postgresql://reader:CanaryPassword123@127.0.0.1:1/warehouse"
    with pytest.raises(SourceUnavailable) as caught:
        list(query(dsn, "SELECT 1 AS email").rows(["email"]))
    assert "CanaryPassword123" not in caught.value.message
    assert "cannot connect" in caught.value.message


def test_non_scalar_values_are_not_bad_rows_but_text(warehouse: str) -> None:
    rows = list(query(warehouse, "SELECT 'a@b.co' AS email, 42 AS n").rows(["email", "n"]))
    assert rows == [(1, ["a@b.co", 42])]
    assert not isinstance(rows[0][1], BadRow)
