"""Threat 9 (medium): SQLite source queries had no time limit.

An endless recursive CTE held a run slot at 100 % CPU, and the process did not exit on
SIGTERM. Now a query ends at its `statementTimeout` (10 minutes unless the file says
otherwise) and is tried again later, and the daemon's stop interrupts a running query.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from syncd.emulator import Emulator
from syncd.ledger import open_ledger
from tests.corpus.bad_sources import ENDLESS
from tests.daemon.process import Daemon
from tests.reconciling.world import World, emails, people
from tests.security.common import env_for

SHUTDOWN_TIMEOUT = 3.0
LISTS = {
    "capped": "33333333-3333-4333-8333-333333333333",
    "endless": "44444444-4444-4444-8444-444444444444",
}


@pytest.mark.slow
async def test_an_endless_query_ends_at_its_time_limit_and_never_holds_up_a_stop(
    tmp_path: Path, emulator: Emulator
) -> None:
    world = World(tmp_path, emulator)
    world.ledger.close()
    sqlite3.connect(world.data / "warehouse.db").close()
    world.destination({"vip": world.csv("vip", people(0, 5))})
    for name, limit in (("capped", {"statementTimeout": "1s"}), ("endless", {})):
        query = {"path": "../data/warehouse.db", "query": ENDLESS, **limit}
        world.destination(
            {"warehouse": {"sqlite": query}},
            name=name,
            sendgrid={"apiKey": {"env": "SENDGRID_API_KEY"}, "listId": LISTS[name]},
            mapping={"email": "Email"},
        )
    daemon = Daemon(env_for(world, SYNCD_SHUTDOWN_TIMEOUT=str(SHUTDOWN_TIMEOUT)))
    await daemon.start()
    try:
        capped = await daemon.until("/v1/destinations/capped", lambda s: s["state"] == "retrying")
        await daemon.until("/v1/destinations/members", lambda s: s["state"] == "ready")
        _, endless = await daemon.get("/v1/destinations/endless")
        health, _ = await daemon.get("/healthz")
    finally:
        started = time.monotonic()
        code = await daemon.stop(within=SHUTDOWN_TIMEOUT + 10)
        stopped_in = time.monotonic() - started

    assert capped["lastRun"]["outcome"] == "temporary"
    assert capped["lastRun"]["error"] == (
        "sqlite warehouse.db: the query ran longer than statementTimeout (1s); it is tried "
        "again later"
    )
    assert endless["state"] == "reconciling"  # still reading when SIGTERM came
    assert world.members() == emails(people(0, 5))  # the other destinations went on
    assert health == 200
    assert code == 0, daemon.output()
    assert stopped_in < SHUTDOWN_TIMEOUT + 2
    ledger = open_ledger(daemon.env["SYNCD_STATE"], writer=False)
    try:
        (interrupted,) = ledger.runs("endless")
    finally:
        ledger.close()
    assert (interrupted.outcome, interrupted.error) == (
        "temporary",
        "stopping: sqlite warehouse.db was not read to the end",
    )
