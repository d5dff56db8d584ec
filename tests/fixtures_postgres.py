"""A real PostgreSQL for the tests that need one: a fresh schema per test.

Without a reachable server these tests skip, saying why; `.ci/run` sets
SYNCD_REQUIRE_POSTGRES=1, which turns that skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """A postgresql:// URL (the form `--state` takes)."""
    dsn = os.environ.get("SYNCD_TEST_POSTGRES_DSN", DEFAULT_DSN)
    try:
        with psycopg.connect(dsn, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        reason = f"no PostgreSQL at {dsn} ({type(error).__name__}); set SYNCD_TEST_POSTGRES_DSN"
        if os.environ.get("SYNCD_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required here (SYNCD_REQUIRE_POSTGRES=1): {reason}")
        pytest.skip(reason)
    return dsn


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
