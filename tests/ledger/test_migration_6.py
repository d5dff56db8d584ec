"""Migration 6 (how each run read its segments): a ledger written by the previous schema
keeps its runs, which read as "not known"; the runs after it keep their read path, in the
history and in the summaries the status is restored from."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from syncd.ledger import Ledger, open_ledger, postgres_schema, sqlite_schema

OLD_RUN = (
    "INSERT INTO runs (destination, trigger, digest, started_at, ended_at, outcome, counts)"
    " VALUES ('members', 'schedule', 'd', 1.0, 2.0, 'success', '{\"upserted\": 3}')"
)


def _sqlite_at_5(path: Path) -> None:
    with sqlite3.connect(path) as db:
        for version in range(1, 6):
            db.executescript(sqlite_schema.MIGRATIONS[version])
        db.execute("PRAGMA user_version = 5")
        db.execute("INSERT INTO destinations (name) VALUES ('members')")
        db.execute(OLD_RUN)
    db.close()
    path.chmod(0o600)


def _postgres_at_5(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute(
            "CREATE TABLE syncd_schema (version integer PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for version in range(1, 6):
            db.execute(postgres_schema.MIGRATIONS[version].encode())
            db.execute("INSERT INTO syncd_schema (version) VALUES (%s)", (version,))
        db.execute("INSERT INTO destinations (name) VALUES ('members')")
        db.execute(OLD_RUN.encode())


def _migrated(ledger: Ledger) -> None:
    (old,) = ledger.runs("members")
    assert (old.counts, old.read) == ({"upserted": 3}, None)  # kept, read path unknown
    with ledger.session("members") as session:
        run_id = session.begin_run("schedule", "d", started_at=3.0)
        session.finish_run(run_id, "success", {"unchanged": 3}, None, ended_at=4.0, read="staged")
    newest, _ = ledger.runs("members")
    assert (newest.id, newest.read) == (run_id, "staged")
    (summary,) = ledger.summaries()
    assert (summary.last_run.id, summary.last_run.read) == (run_id, "staged")


def test_sqlite_ledger_at_schema_5_migrates_to_6(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    _sqlite_at_5(path)
    ledger = open_ledger(str(path))
    try:
        _migrated(ledger)
    finally:
        ledger.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 6
    db.close()


@pytest.mark.postgres
def test_postgres_ledger_at_schema_5_migrates_to_6(postgres_dsn: str) -> None:
    _postgres_at_5(postgres_dsn)
    ledger = open_ledger(postgres_dsn)
    try:
        _migrated(ledger)
    finally:
        ledger.close()
    with psycopg.connect(postgres_dsn) as db:
        row = db.execute("SELECT max(version) FROM syncd_schema").fetchone()
    assert row is not None
    assert row[0] == 6
