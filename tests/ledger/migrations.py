"""Ledgers at an earlier schema version, on both backends, for the migration tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import psycopg

from syncd.ledger import postgres_schema, sqlite_schema


def sqlite_at(path: Path, version: int, rows: Sequence[str]) -> None:
    """A SQLite ledger at schema `version`, holding `rows` (SQL statements)."""
    with sqlite3.connect(path) as db:
        for step in range(1, version + 1):
            db.executescript(sqlite_schema.MIGRATIONS[step])
        db.execute(f"PRAGMA user_version = {version}")
        for row in rows:
            db.execute(row)
    db.close()
    path.chmod(0o600)


def postgres_at(dsn: str, version: int, rows: Sequence[str]) -> None:
    """A PostgreSQL ledger at schema `version`, holding `rows` (SQL statements)."""
    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute(
            "CREATE TABLE syncd_schema (version integer PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for step in range(1, version + 1):
            db.execute(postgres_schema.MIGRATIONS[step].encode())
            db.execute("INSERT INTO syncd_schema (version) VALUES (%s)", (step,))
        for row in rows:
            db.execute(row.encode())


def sqlite_version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        version: int = db.execute("PRAGMA user_version").fetchone()[0]
    db.close()
    return version


def postgres_version(dsn: str) -> int:
    with psycopg.connect(dsn) as db:
        row = db.execute("SELECT max(version) FROM syncd_schema").fetchone()
    assert row is not None
    version: int = row[0]
    return version
