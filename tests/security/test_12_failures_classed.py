"""Threat 12 (low): failures told apart wrongly, so syncd waited or retried for the wrong thing.

A full disk was reported as "cannot rollback - no transaction is active"; a malformed
DSN was classed temporary and retried for ever; a transient 401 from SendGrid stalled a
destination until someone acted, even after SendGrid recovered. (A writable `WITH ...
DELETE` is refused as permanent too: the `writable-cte` case of the source corpus, run
against PostgreSQL by tests/guarantees/test_bad_input.py.)
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from syncd.emulator import Emulator, FaultRule
from syncd.errors import LedgerUnavailable
from syncd.ledger import Rejection
from syncd.ledger.sqlite import SqliteLedger
from tests.daemon.process import Daemon
from tests.reconciling.world import World, emails, people
from tests.security.common import env_for

RECHECK = 0.5
OTHER_LIST = "33333333-3333-4333-8333-333333333333"


def test_a_full_disk_is_reported_as_such_and_the_ledger_works_once_there_is_room(
    tmp_path: Path,
) -> None:
    ledger = SqliteLedger(tmp_path / "state.db")
    many = [Rejection("vip", row, "x" * 200, f"p{row}@example.com") for row in range(5000)]
    try:
        with ledger.session("members") as session:
            run = session.begin_run("manual", "digest")
            # SQLite's own cap on the file's pages fails a write exactly as a full volume
            # does (SQLITE_FULL), without needing a volume to fill.
            db = session._db  # the one connection this session writes through
            pages = db.execute("PRAGMA page_count").fetchone()[0]
            db.execute(f"PRAGMA max_page_count = {pages}")
            with pytest.raises(LedgerUnavailable) as full:
                session.record_rejections(run, many)
            db.execute("PRAGMA max_page_count = 1073741823")  # room again
            session.record_rejections(run, many[:10])
            session.finish_run(run, "success", {}, None)
        (recorded,) = ledger.runs("members")
    finally:
        ledger.close()

    assert full.value.message == (
        f"ledger {tmp_path}/state.db: the disk is full; free space on its volume (nothing "
        "was lost: the last transaction was rolled back)"
    )
    assert recorded.outcome == "success"
    assert len(ledger.rejections(recorded.id, limit=10_000)) == 10


@pytest.mark.slow
async def test_a_transient_401_clears_by_itself_and_a_malformed_dsn_is_not_retried(
    tmp_path: Path, emulator: Emulator
) -> None:
    world = World(tmp_path, emulator)
    world.ledger.close()
    world.destination({"vip": world.csv("vip", people(0, 5))})
    dsn = {"env": "WAREHOUSE_DSN"}
    world.destination(
        {"warehouse": {"postgres": {"dsn": dsn, "query": "SELECT 1 AS x"}}},
        name="warehouse",
        sendgrid={"apiKey": {"env": "SENDGRID_API_KEY"}, "listId": OTHER_LIST},
    )
    revoked = emulator.faults.add(FaultRule(kind="status", status=401))
    env = env_for(
        world,
        SYNCD_STALL_RECHECK=str(RECHECK),
        WAREHOUSE_DSN="postgresql://reader:pw%zz@127.0.0.1:1/marts",  # `%zz` escapes nothing
        SYNCD_SECRET_ENV="SENDGRID_API_KEY,WAREHOUSE_DSN",
    )
    daemon = Daemon(env)
    await daemon.start()
    try:
        refused = await daemon.until("/v1/destinations/members", lambda s: s["state"] == "stalled")
        malformed = await daemon.until(
            "/v1/destinations/warehouse", lambda s: s["state"] == "stalled"
        )
        rechecked = await daemon.until(
            "/v1/destinations/members", lambda s: s["consecutiveFailures"] >= 2
        )
        emulator.faults.remove(revoked)  # SendGrid recovers; nobody touches syncd
        recovered = await daemon.until("/v1/destinations/members", lambda s: s["state"] == "ready")
        await asyncio.sleep(2 * RECHECK)
        _, warehouse = await daemon.get("/v1/destinations/warehouse")
    finally:
        assert await daemon.stop() == 0, daemon.output()

    assert refused["lastRun"]["outcome"] == "permanent"
    assert "SendGrid refused the API key (401 Unauthorized)" in refused["lastRun"]["error"]
    assert rechecked["state"] == "stalled"
    stalled = next(c for c in rechecked["conditions"] if c["type"] == "Stalled")
    assert stalled["message"].startswith("re-checked by itself on a slow schedule")
    assert recovered["lastRun"]["trigger"] == "schedule"
    assert world.members() == emails(people(0, 5))
    assert malformed["lastRun"]["outcome"] == "permanent"
    assert "cannot connect: invalid percent-encoded token" in malformed["lastRun"]["error"]
    assert warehouse["consecutiveFailures"] == 1  # stalled, not retried for ever
    assert warehouse["nextRunAt"] is None
    stalled = next(c for c in warehouse["conditions"] if c["type"] == "Stalled")
    assert stalled["message"] == "waiting for the file to change or an on-demand run"
