"""The PostgreSQL snapshot is planned with statistics: nothing else ever analyses a
temporary table, and without them every page of a first export's build scanned and sorted
the whole snapshot (a 1M export spent most of its time there)."""

from __future__ import annotations

import pytest

from syncd.ledger import open_ledger
from syncd.ledger.postgres import PostgresSession
from tests.ledger.state import load

pytestmark = pytest.mark.postgres


def _reltuples(session: PostgresSession, table: str) -> float:
    # The session's own connection: the temporary table is visible only there.
    row = session._db.execute(
        "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (table,)
    ).fetchone()
    assert row is not None
    return float(row[0])


def test_a_sorted_snapshot_has_planner_statistics(postgres_dsn: str) -> None:
    ledger = open_ledger(postgres_dsn)
    try:
        with ledger.session("d") as session:
            assert isinstance(session, PostgresSession)
            load(session, {f"user{i:04d}@example.com": i for i in range(1_500)})
            assert _reltuples(session, "pg_temp.snapshot") == 1_500
    finally:
        ledger.close()
