"""A sync with the segment in a PostgreSQL warehouse and the ledger in PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest

from syncd.emulator import Emulator
from syncd.ledger import open_ledger
from tests.reconciling.world import World, emails, people

pytestmark = pytest.mark.postgres


async def test_segments_from_the_warehouse_sync_through_the_shared_ledger(
    sync_world: World, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch, emulator: Emulator
) -> None:
    w = sync_world
    w.ledger.close()
    w.ledger = open_ledger(postgres_dsn)
    monkeypatch.setenv("WAREHOUSE_DSN", postgres_dsn)
    rows = people(0, 60)
    with psycopg.connect(postgres_dsn, autocommit=True) as db:
        db.execute(b'CREATE TABLE segment ("EmailAddress" text, "FirstName" text, "Tier" text)')
        with db.cursor() as cursor:
            cursor.executemany(
                b"INSERT INTO segment VALUES (%s, %s, %s)",
                [(r["EmailAddress"], r["FirstName"], r["Tier"]) for r in rows],
            )
    source = {"postgres": {"dsn": {"env": "WAREHOUSE_DSN"}, "query": "SELECT * FROM segment"}}
    w.destination(
        {"warehouse": source},
        mapping={
            "email": "EmailAddress",
            "first_name": "FirstName",
            "custom_fields": {"loyalty_tier": "Tier"},
        },
    )

    first = await w.sync()
    assert first.outcome == "success", first.error
    assert w.members() == emails(rows)

    with psycopg.connect(postgres_dsn, autocommit=True) as db:
        db.execute(
            b"""UPDATE segment SET "FirstName" = 'Changed' WHERE "EmailAddress" LIKE '%.7@%'"""
        )
        db.execute(b"""DELETE FROM segment WHERE "EmailAddress" LIKE '%.3_@%'""")
    second = await w.sync()
    assert second.outcome == "success", second.error
    assert second.counts()["upserted"] == 1
    assert second.counts()["removed"] == 10
    assert len(w.members()) == 50
    changed = w.emulator.state.contact("person.7@example.com")
    assert changed is not None
    assert changed["first_name"] == "Changed"
    assert (await w.sync()).counts()["upserted"] == 0
