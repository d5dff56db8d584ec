"""Migration 7 (a leaver given up on departs as `notRemoved`; each segment's rows at its
last whole read): a ledger written by the previous schema keeps its departures, and takes
the new kind and the counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.ledger import Ledger, open_ledger, postgres_schema, sqlite_schema
from tests.ledger.migrations import postgres_at, postgres_version, sqlite_at, sqlite_version

ROWS = (
    "INSERT INTO destinations (name) VALUES ('members')",
    "INSERT INTO departures (destination, email, departed_at, how)"
    " VALUES ('members', 'old@example.com', 1.0, 'removed')",
    "INSERT INTO acked (destination, email, fingerprint, binding, raw, acked_at)"
    " VALUES ('members', 'stuck@example.com', 1, 1, 1, 1.0)",
)


def _migrated(ledger: Ledger) -> None:
    old = ledger.contact("members", "old@example.com").departed
    assert old is not None
    assert (old.at, old.how) == (1.0, "removed")
    with ledger.session("members") as session:
        session.removed(["stuck@example.com"], how="notRemoved")
    with ledger.session("members") as session:
        assert session.segment_rows() == {}  # none recorded before the migration
        session.record_segment_rows({"vip": 3, "extra": 0})
        assert session.segment_rows() == {"vip": 3, "extra": 0}
    stuck = ledger.contact("members", "stuck@example.com")
    assert stuck.acknowledged is None
    assert stuck.departed is not None
    assert stuck.departed.how == "notRemoved"


def test_sqlite_ledger_at_schema_6_migrates_to_7(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    sqlite_at(path, 6, ROWS)
    ledger = open_ledger(str(path))
    try:
        _migrated(ledger)
    finally:
        ledger.close()
    assert sqlite_version(path) == sqlite_schema.SCHEMA_VERSION == 7


@pytest.mark.postgres
def test_postgres_ledger_at_schema_6_migrates_to_7(postgres_dsn: str) -> None:
    postgres_at(postgres_dsn, 6, ROWS)
    ledger = open_ledger(postgres_dsn)
    try:
        _migrated(ledger)
    finally:
        ledger.close()
    assert postgres_version(postgres_dsn) == postgres_schema.SCHEMA_VERSION == 7
