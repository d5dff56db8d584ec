"""Migration 6 (how each run read its segments): a ledger written by the previous schema
keeps its runs, which read as "not known"; the runs after it keep their read path, in the
history and in the summaries the status is restored from."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.ledger import Ledger, open_ledger, postgres_schema, sqlite_schema
from tests.ledger.migrations import postgres_at, postgres_version, sqlite_at, sqlite_version

ROWS = (
    "INSERT INTO destinations (name) VALUES ('members')",
    "INSERT INTO runs (destination, trigger, digest, started_at, ended_at, outcome, counts)"
    " VALUES ('members', 'schedule', 'd', 1.0, 2.0, 'success', '{\"upserted\": 3}')",
)


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
    sqlite_at(path, 5, ROWS)
    ledger = open_ledger(str(path))
    try:
        _migrated(ledger)
    finally:
        ledger.close()
    assert sqlite_version(path) == sqlite_schema.SCHEMA_VERSION


@pytest.mark.postgres
def test_postgres_ledger_at_schema_5_migrates_to_6(postgres_dsn: str) -> None:
    postgres_at(postgres_dsn, 5, ROWS)
    ledger = open_ledger(postgres_dsn)
    try:
        _migrated(ledger)
    finally:
        ledger.close()
    assert postgres_version(postgres_dsn) == postgres_schema.SCHEMA_VERSION
