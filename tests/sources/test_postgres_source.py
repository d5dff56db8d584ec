"""The postgres source against a real server: streaming, read-only, clear errors."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta

import psycopg
import pytest

from syncd.contacts import ContactBuilder
from syncd.destinations import Mapping
from syncd.errors import SourceInvalid, SourceUnavailable, SyncdError
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


@pytest.mark.slow
def test_a_million_rows_stream_with_flat_memory(warehouse: str) -> None:
    small_rows, small_peak = peak_rss_kib(warehouse, 10_000)
    big_rows, big_peak = peak_rss_kib(warehouse, 1_000_000)
    assert (small_rows, big_rows) == (10_000, 1_000_000)
    growth_mib = (big_peak - small_peak) / 1024
    print(f"peak RSS: {small_peak / 1024:.0f} MiB for 10k rows, {big_peak / 1024:.0f} MiB for 1M")
    assert growth_mib < 15, f"memory grew {growth_mib:.0f} MiB between 10k and 1M rows"


WIDE = """
import resource, sys
from datetime import timedelta
from syncd.sources.postgres import PostgresQuery
dsn = sys.argv[1]
source = PostgresQuery(dsn, sys.argv[2], statement_timeout=timedelta(minutes=5), name="s")
rows = list(source.rows(["email", "first_name"]))
bad = sum(1 for _, values in rows if not isinstance(values, list))
print(len(rows), bad, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "sql",
    [
        # an unmapped column of a megabyte: fetched 5,000 rows at a time, 1.6 GB
        "SELECT email, first_name, repeat('x', 1000000) AS pad FROM profiles WHERE id <= 800",
        # a mapped value of a megabyte: never useful (SendGrid takes a kilobyte)
        "SELECT email, repeat('x', 1000000) AS first_name FROM profiles WHERE id <= 800",
    ],
)
def test_only_the_mapped_values_come_over_each_capped(warehouse: str, sql: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", WIDE, warehouse, sql],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout.split()
    rows, bad, peak_kib = int(out[0]), int(out[1]), int(out[2])
    assert rows == 800
    assert bad == 0  # a long mapped value comes cut (the row is refused when built)
    _, small_peak = peak_rss_kib(warehouse, 10)
    growth_mib = (peak_kib - small_peak) / 1024
    assert growth_mib < 32, f"memory grew {growth_mib:.0f} MiB for 800 rows"


def test_a_long_mapped_value_comes_cut_and_the_others_as_they_are(warehouse: str) -> None:
    # Cut past the cap, not blanked: the row keeps its address, so it is refused for its
    # length and the contact stays as SendGrid has it (a bad row without an address took
    # the contact off the list).
    sql = (
        "SELECT email, CASE WHEN id = 2 THEN repeat('y', 5000) ELSE first_name END AS "
        "first_name, id AS n, repeat('z', 9000) AS unmapped FROM profiles WHERE id <= 3 "
        "ORDER BY id DESC;  -- the last line: a comment after the semicolon"
    )
    rows = list(query(warehouse, sql).rows(["email", "first_name", "n"]))
    assert rows == [
        (1, ["person.3@example.com", "First3", 3]),
        (2, ["person.2@example.com", "y" * 4097, 2]),
        (3, ["person.1@example.com", "First1", 1]),
    ]
    builder = ContactBuilder(Mapping.model_validate({"email": "email", "first_name": "first_name"}))
    cut = rows[1][1]
    assert not isinstance(cut, BadRow)
    assert builder.build(cut[:2]) == "first_name is longer than 50 characters (4097)"
    ending = "SELECT email FROM profiles WHERE id = 1 -- the last line, a comment"
    assert list(query(warehouse, ending).rows(["email"])) == [(1, ["person.1@example.com"])]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT email FROM profiles WHERE id = 1;",
        "SELECT email FROM profiles WHERE id = 1; -- done",
        "SELECT email FROM profiles WHERE id = 1;\n-- end of file\n",
        "SELECT email FROM profiles WHERE id = 1; /* done /* nested */ */",
        "SELECT email FROM profiles WHERE id = 1; ;",
        "SELECT email FROM profiles WHERE id = 1 AND first_name <> ';--' ;",
        "SELECT email FROM profiles WHERE id = 1 AND first_name <> $$;--$$;",
        "WITH p AS (SELECT * FROM profiles WHERE id = 1) SELECT email FROM p;",
    ],
)
def test_a_query_ending_in_semicolons_and_comments_stands_as_a_subquery(
    warehouse: str, sql: str
) -> None:
    # Each ran as written before the query was read as a subquery, which takes none.
    assert list(query(warehouse, sql).rows(["email"])) == [(1, ["person.1@example.com"])]


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


@pytest.mark.slow
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


@pytest.fixture
def people(postgres_dsn: str) -> str:
    with psycopg.connect(postgres_dsn, autocommit=True) as db:
        db.execute(b"CREATE TABLE people AS SELECT 'a@example.com'::text AS email")
        db.execute(
            b"CREATE FUNCTION wipe() RETURNS SETOF text LANGUAGE sql "
            b"AS 'DELETE FROM people RETURNING email'"
        )
    return postgres_dsn


def count_people(dsn: str) -> int:
    with psycopg.connect(dsn) as db:
        row = db.execute(b"SELECT count(*) FROM people").fetchone()
    assert row is not None
    return int(row[0])


def test_the_transaction_is_rolled_back_even_after_a_full_read(people: str) -> None:
    # A notification is delivered only when its transaction commits, in commit order:
    # the sentinel, committed after the read, must be the first and only one to arrive.
    with psycopg.connect(people, autocommit=True) as listener:
        listener.execute(b"LISTEN syncd_probe")
        probe = "SELECT email, pg_notify('syncd_probe', 'read') FROM people"
        assert list(query(people, probe).rows(["email"])) == [(1, ["a@example.com"])]
        with psycopg.connect(people, autocommit=True) as other:
            other.execute(b"SELECT pg_notify('syncd_probe', 'sentinel')")
        received = [n.payload for n in listener.notifies(timeout=10, stop_after=1)]
    assert received == ["sentinel"]


@pytest.mark.parametrize(
    ("sql", "said"),
    [
        (
            "WITH gone AS (DELETE FROM people RETURNING email) SELECT email FROM gone",
            "DECLARE CURSOR must not contain data-modifying statements in WITH",
        ),
        ("SELECT wipe() AS email", "cannot execute DELETE in a read-only transaction"),
    ],
    ids=["writable CTE", "function that deletes"],
)
def test_a_query_that_would_write_is_permanent_and_changes_nothing(
    people: str, sql: str, said: str
) -> None:
    with pytest.raises(SourceInvalid) as caught:
        list(query(people, sql).rows(["email"]))
    assert caught.value.message == f"postgres segment s: {said}"
    assert count_people(people) == 1


def test_a_connection_error_names_the_database_it_could_not_open(postgres_dsn: str) -> None:
    # No row was read before connecting: the names quoted are the DSN's, and fixing it
    # needs them.
    dsn = postgres_dsn.rsplit("/", 1)[0] + "/no_such_warehouse"
    with pytest.raises(SyncdError) as caught:
        list(query(dsn, "SELECT 1 AS email").rows(["email"]))
    assert 'database "no_such_warehouse" does not exist' in caught.value.message


@pytest.mark.parametrize("password", ["p%ss", "Sekr%et w0rd", "%zz%"])
def test_a_malformed_connection_string_is_permanent_and_never_shows_the_password(
    password: str,
) -> None:
    dsn = f"postgresql://reader:{password}@127.0.0.1:1/warehouse"
    with pytest.raises(SourceInvalid) as caught:
        list(query(dsn, "SELECT 1 AS email").rows(["email"]))
    message = caught.value.message
    assert message.startswith("postgres segment s: cannot connect: invalid percent-encoded token")
    assert password not in message
    assert password.replace(" ", "%20") not in message


def test_a_value_the_query_cannot_convert_is_permanent_and_not_quoted(people: str) -> None:
    with psycopg.connect(people, autocommit=True) as db:
        db.execute(b"ALTER TABLE people ADD COLUMN name text DEFAULT 'Jane Canary'")
    with pytest.raises(SourceInvalid) as caught:
        list(query(people, "SELECT name::int AS email FROM people").rows(["email"]))
    assert caught.value.message == (
        'postgres segment s: invalid input syntax for type integer: "…"'
    )


@pytest.mark.parametrize(
    ("sql", "said"),
    [
        (
            "SELECT current_setting(name) AS email FROM people",
            'unrecognized configuration parameter "…"',
        ),
        ("SELECT name::regclass::text AS email FROM people", 'relation "…"'),
        ("SELECT name::regrole::text AS email FROM people", 'role "…"'),
        ('SELECT "emial" FROM people', 'column "emial" does not exist'),  # the query's own
        ("SELECT emial FROM people", 'column "emial" does not exist'),
        # A value that carries quotes of its own: `"x"` looked spelled, the rest followed.
        (
            "SELECT current_setting('x\"' || name) AS email, 1 AS x FROM people",
            'unrecognized configuration parameter "…"',
        ),
        (
            "SELECT current_setting('x\" ' || name || ' \"y') AS email, 1 AS x, 2 AS y FROM people",
            'unrecognized configuration parameter "…"',
        ),
    ],
)
def test_an_error_never_quotes_a_value_of_the_rows(people: str, sql: str, said: str) -> None:
    # Class-42 errors quote what they could not find: here, a value a pull request's query
    # read (a password column), printed by the plan CI runs before anyone merged it.
    with psycopg.connect(people, autocommit=True) as db:
        db.execute(b"ALTER TABLE people ADD COLUMN name text DEFAULT 'Tr0ub4dor&3-Canary'")
    with pytest.raises(SyncdError) as caught:
        list(query(people, sql).rows(["email"]))
    message = caught.value.message
    assert "canary" not in message.casefold(), message
    assert said in message, message


def test_a_sub_millisecond_time_limit_is_a_limit_not_none(people: str) -> None:
    # int(0.0009 * 1000) was 0, which PostgreSQL reads as no limit at all.
    source = query(people, "SELECT pg_sleep(30)::text AS email", timeout=0.0009)
    with pytest.raises(SourceUnavailable, match="statementTimeout"):
        list(source.rows(["email"]))


def test_the_stop_signal_cancels_a_running_statement(people: str) -> None:
    stop = threading.Event()
    source = PostgresQuery(
        people,
        "SELECT pg_sleep(60)::text AS email",
        statement_timeout=timedelta(seconds=120),
        name="s",
        stopping=stop.is_set,
    )
    threading.Timer(0.3, stop.set).start()
    with pytest.raises(SourceUnavailable) as caught:
        list(source.rows(["email"]))
    assert caught.value.message == "stopping: postgres segment s was not read to the end"
