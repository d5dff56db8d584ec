"""Threat 11 (low): "read-only" sources with side effects.

A source query runs in CI's `syncd plan` on an unmerged pull request. SQLite's `ATTACH`
and `VACUUM INTO` created files at any writable path; the PostgreSQL source's
transaction committed instead of rolling back. Now a SQLite source is opened read-only,
an authorizer refuses anything but reading, and a PostgreSQL source's transaction is
read-only and always rolled back.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import psycopg
import pytest

from syncd.emulator import Emulator
from tests.commands import syncd
from tests.corpus import list_id
from tests.reconciling.world import World
from tests.security.common import env_for


def people_db(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE people (Email TEXT)")
        db.execute("INSERT INTO people VALUES ('ada@example.com')")
    db.close()


@pytest.mark.slow
async def test_a_sqlite_query_in_a_pull_request_can_neither_write_nor_create_files(
    tmp_path: Path, emulator: Emulator
) -> None:
    world = World(tmp_path, emulator)
    world.ledger.close()
    people_db(world.data / "people.db")
    before = (world.data / "people.db").read_bytes()
    planted = tmp_path / "planted"
    planted.mkdir()
    attempts = {
        "attach": (f"ATTACH DATABASE '{planted}/attached.db' AS elsewhere", "ATTACH is refused"),
        "vacuum": (f"VACUUM INTO '{planted}/copy.db'", "VACUUM is refused"),
        "second": ("SELECT Email FROM people; DROP TABLE people", "one statement"),
    }  # every other statement and function that writes: tests/sources/test_sqlite_source.py
    for name, (query, _) in attempts.items():
        world.destination(
            {"people": {"sqlite": {"path": "../data/people.db", "query": query}}},
            name=name,
            sendgrid={"apiKey": {"env": "SENDGRID_API_KEY"}, "listId": list_id(name)},
            mapping={"email": "Email"},
        )
    env = env_for(world)

    planned = await asyncio.gather(*(syncd("plan", name, env=env) for name in attempts))

    for (name, (_, said)), plan in zip(attempts.items(), planned, strict=True):
        assert plan.code == 1, plan.describe()
        assert said in plan.out, (name, plan.describe())
    assert list(planted.iterdir()) == []
    assert sorted(p.name for p in world.data.iterdir()) == ["people.db"]
    assert (world.data / "people.db").read_bytes() == before


@pytest.mark.slow
@pytest.mark.postgres
async def test_a_postgres_query_in_a_pull_request_changes_nothing_in_the_warehouse(
    tmp_path: Path, emulator: Emulator, postgres_dsn: str
) -> None:
    with psycopg.connect(postgres_dsn, autocommit=True) as db:
        db.execute(b"CREATE TABLE people AS SELECT 'ada@example.com'::text AS \"Email\"")
        db.execute(b"CREATE TABLE audit (n int)")
        db.execute(
            b"CREATE FUNCTION leak() RETURNS int LANGUAGE sql VOLATILE "
            b"AS $$ INSERT INTO audit VALUES (1) RETURNING 1 $$"
        )
    world = World(tmp_path, emulator)
    world.ledger.close()
    attempts = {
        "function": ('SELECT "Email", leak() AS n FROM people', "cannot execute INSERT"),
        "cte": (
            'WITH gone AS (DELETE FROM people RETURNING "Email") SELECT * FROM gone',
            "must not contain data-modifying statements",
        ),
    }
    for name, (query, _) in attempts.items():
        world.destination(
            {"warehouse": {"postgres": {"dsn": {"env": "WAREHOUSE_DSN"}, "query": query}}},
            name=name,
            sendgrid={"apiKey": {"env": "SENDGRID_API_KEY"}, "listId": list_id(name)},
            mapping={"email": "Email"},
        )
    env = env_for(
        world, WAREHOUSE_DSN=postgres_dsn, SYNCD_SECRET_ENV="SENDGRID_API_KEY,WAREHOUSE_DSN"
    )

    planned = await asyncio.gather(*(syncd("plan", name, env=env) for name in attempts))

    for (name, (_, said)), plan in zip(attempts.items(), planned, strict=True):
        assert plan.code == 1, plan.describe()
        assert said in plan.out, (name, plan.describe())
    with psycopg.connect(postgres_dsn) as db:
        assert db.execute(b"SELECT count(*) FROM people").fetchone() == (1,)
        assert db.execute(b"SELECT count(*) FROM audit").fetchone() == (0,)
