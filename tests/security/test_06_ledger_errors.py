"""Threat 6 (medium): ledger errors that are not syncd's own killed a worker silently.

A corrupted ledger page or a ledger deleted while running left the destination
`reconciling` for ever while `/readyz` stayed ready. Now every run ends as an outcome:
a damaged ledger stalls the destinations with a message naming the file (the daemon
keeps serving, not ready, whether the damage was there at start or came while it ran);
a ledger moved away is retried and picked up again once it is back.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from syncd.emulator import Emulator
from tests.daemon.process import Daemon
from tests.reconciling.world import World, emails, people
from tests.security.common import env_for

COMPANIONS = ("", "-wal", "-shm")


def damage(state: Path) -> None:
    """Overwrite the database's first page in place, as a failing disk or a stray `dd` would;
    its write-ahead log goes too, so that no intact copy of the page is left."""
    for suffix in COMPANIONS[1:]:
        state.with_name(state.name + suffix).unlink(missing_ok=True)
    with state.open("r+b") as file:
        file.write(b"\xde\xad\xbe\xef" * 1024)


def condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in status["conditions"] if c["type"] == kind)
    return found


async def assert_stalled_by_the_ledger(daemon: Daemon, state: Path) -> None:
    """The destination stalled, naming the ledger; not ready; health, status and metrics
    still answered."""
    status = await daemon.until("/v1/destinations/members", lambda s: s["state"] == "stalled")
    said = f"ledger {state} is damaged or was replaced (file is not a database)"
    assert status["lastRun"]["outcome"] == "permanent"
    assert status["lastRun"]["error"].startswith(said), status
    assert condition(status, "Stalled")["status"] == "True"
    assert condition(status, "Ready")["message"].startswith(said)
    ready, why = await daemon.get("/readyz")
    assert (ready, why["status"]) == (503, "not ready")
    assert why["reason"].startswith(said)
    for path in ("/healthz", "/v1/destinations", "/metrics"):
        assert (await daemon.get(path))[0] == 200, path


@pytest.mark.slow
async def test_a_ledger_moved_away_is_retried_and_a_damaged_one_stalls_while_serving(
    tmp_path: Path, emulator: Emulator
) -> None:
    world = World(tmp_path, emulator)
    world.ledger.close()
    world.destination({"vip": world.csv("vip", people(0, 5))})
    daemon = Daemon(env_for(world, SYNCD_BACKOFF_MAX="0.5"))
    state = Path(daemon.env["SYNCD_STATE"])
    await daemon.start()
    try:
        await daemon.until("/v1/destinations/members", lambda s: s["state"] == "ready")

        # Moved away (a clumsy `mv`): retried, never replaced by an empty ledger.
        for suffix in COMPANIONS:
            moved = state.with_name(state.name + suffix)
            if moved.exists():
                moved.rename(moved.with_name(moved.name + ".aside"))
        world.csv("vip", people(0, 6))
        await daemon.post("/v1/destinations/members/sync")
        retrying = await daemon.until(
            "/v1/destinations/members", lambda s: s["state"] == "retrying"
        )
        not_ready = await daemon.get("/readyz")
        assert not state.exists()
        for suffix in COMPANIONS:
            aside = state.with_name(state.name + suffix + ".aside")
            if aside.exists():
                aside.rename(state.with_name(state.name + suffix))
        await daemon.until("/v1/destinations/members", lambda s: s["state"] == "ready")
        assert (await daemon.get("/readyz"))[0] == 200

        # Damaged in place: every destination stalls, naming the file; the daemon serves.
        damage(state)
        world.csv("vip", people(0, 7))
        await daemon.post("/v1/destinations/members/sync")
        await assert_stalled_by_the_ledger(daemon, state)
    finally:
        code = await daemon.stop()

    assert retrying["lastRun"]["outcome"] == "temporary"
    assert retrying["lastRun"]["error"].startswith(
        f"ledger {state} cannot be opened (unable to open database file): was it deleted or "
        "moved while syncd was running?"
    )
    assert not_ready[0] == 503
    assert "was it deleted or moved" in not_ready[1]["reason"]
    assert world.members() == emails(people(0, 6))  # synced once the ledger was back
    assert code == 0, daemon.output()
    assert "Traceback" not in daemon.output()


async def test_a_ledger_damaged_before_the_start_stalls_every_destination_while_serving(
    sync_world: World,
) -> None:
    world = sync_world
    world.destination({"vip": world.csv("vip", people(0, 5))})
    assert (await world.sync()).outcome == "success"  # a ledger with history
    world.ledger.close()
    state = Path(world.settings.state)
    damage(state)

    daemon = Daemon(env_for(world, SYNCD_STATE=str(state)))
    await daemon.start(until="/healthz")
    try:
        await assert_stalled_by_the_ledger(daemon, state)
        await asyncio.sleep(0.5)  # still serving a moment later: nothing crashed
        assert (await daemon.get("/healthz"))[0] == 200
    finally:
        code = await daemon.stop()

    assert code == 0, daemon.output()
    assert "Traceback" not in daemon.output()
    assert world.members() == emails(people(0, 5))
