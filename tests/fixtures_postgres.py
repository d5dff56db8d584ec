"""A real PostgreSQL for the tests that need one: a fresh schema per test, in a database
of the test session's own.

Without a reachable server these tests skip, saying why; `.ci/run` sets
SYNCD_REQUIRE_POSTGRES=1, which turns that skip into a failure.

Why a database per session (per pytest-xdist worker), not only a schema per test: the
PostgreSQL leases are session advisory locks keyed by destination name, and advisory
locks are per database, whatever the schema. Two tests running at once in one database
would contend for the lock of a destination both call `alpha`. A database of its own
makes each worker's tests as alone as the whole suite is in one process. When the role
may not create databases, the tests share the given one, as a single process can.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A postgresql:// URL (the form `--state` takes) of a database this session owns."""
    dsn = os.environ.get("SYNCD_TEST_POSTGRES_DSN", DEFAULT_DSN)
    try:
        with psycopg.connect(dsn, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        reason = f"no PostgreSQL at {dsn} ({type(error).__name__}); set SYNCD_TEST_POSTGRES_DSN"
        if os.environ.get("SYNCD_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required here (SYNCD_REQUIRE_POSTGRES=1): {reason}")
        pytest.skip(reason)
    own = _own_database(dsn, os.environ.get("PYTEST_XDIST_WORKER", "main"))
    if own is None:
        yield dsn
        return
    name, own_dsn = own
    yield own_dsn
    with psycopg.connect(dsn, autocommit=True) as connection:
        # FORCE: a process a failed test left behind must not keep the database alive.
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def _own_database(dsn: str, worker_id: str) -> tuple[str, str] | None:
    """(name, URL) of a new database beside the one `dsn` names, or None when the URL names
    none or the role may not create one."""
    parts = urlsplit(dsn)
    base = parts.path.lstrip("/")
    if parts.scheme not in ("postgresql", "postgres") or not base or "/" in base:
        return None
    # The worker id keeps it readable; the random part keeps two runs at once apart.
    name = f"{base}_{worker_id}_{uuid.uuid4().hex[:8]}"[:63]
    try:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"'.encode())
    except psycopg.errors.InsufficientPrivilege:
        return None
    return name, urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def postgres_dsn(postgres_server: str) -> Iterator[str]:
    """A DSN whose search_path is a schema of its own, dropped afterwards."""
    schema = f"syncd_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"'.encode())
    separator = "&" if "?" in postgres_server else "?"
    yield f"{postgres_server}{separator}options=-c%20search_path%3D{schema}"
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE'.encode())
