"""Migration 5 (the audit): a ledger written by the previous schema keeps everything it
held, and gains the export an audit waits for and the last drift of each destination."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.ledger import DriftRecord, Ledger, open_ledger, postgres_schema, sqlite_schema
from tests.ledger.migrations import postgres_at, postgres_version, sqlite_at, sqlite_version

ROWS = (
    "INSERT INTO destinations (name) VALUES ('members')",
    "INSERT INTO acked (destination, email, fingerprint, binding, raw, acked_at)"
    " VALUES ('members', 'ann@example.com', 1, 2, 3, 4.0)",
)


def _migrated(ledger: Ledger) -> None:
    assert ledger.drifts() == {}
    with ledger.session("members") as session:
        assert session.acked_count() == 1  # kept
        assert session.audit_export() is None
        session.keep_audit_export("export-1 100.0")
        assert session.audit_export() == "export-1 100.0"
        session.record_drift(DriftRecord("members", 200.0, missing=7, extra=5, stale=3))
        session.record_drift(DriftRecord("members", 300.0, unacknowledged=2, healed=True))
    assert ledger.drifts() == {
        "members": DriftRecord("members", 300.0, unacknowledged=2, healed=True)
    }


def test_sqlite_ledger_at_schema_4_migrates_to_5(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    sqlite_at(path, 4, ROWS)
    ledger = open_ledger(str(path))
    try:
        _migrated(ledger)
    finally:
        ledger.close()
    assert sqlite_version(path) == sqlite_schema.SCHEMA_VERSION


@pytest.mark.postgres
def test_postgres_ledger_at_schema_4_migrates_to_5(postgres_dsn: str) -> None:
    postgres_at(postgres_dsn, 4, ROWS)
    ledger = open_ledger(postgres_dsn)
    try:
        _migrated(ledger)
    finally:
        ledger.close()
    assert postgres_version(postgres_dsn) == postgres_schema.SCHEMA_VERSION


def test_audit_repairs_are_fenced_and_paged(ledger: Ledger) -> None:
    with ledger.session("members") as session:
        session.acknowledge_found([("b@example.com", 11, 22, 33), ("a@example.com", 1, 2, 3)])
        assert [e for e, _ in session.acked_page("", 10)] == ["a@example.com", "b@example.com"]
        assert [e for e, _ in session.acked_page("a@example.com", 10)] == ["b@example.com"]
        session.mark_in_sync("known")
        session.unsettle(["a@example.com"])
        assert session.in_sync() is None  # the sources are no longer known equal
        record = ledger.contact("members", "a@example.com")
        assert record.acknowledged is not None
        assert session.audit_exclusions(0.0, 3, "", 10) == []
