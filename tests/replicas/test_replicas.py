"""Several `syncd run` replicas on one PostgreSQL ledger: one owner per destination at a time,
takeover when a replica dies, and a paused replica's late commit refused by the epoch."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest

from syncd.emulator import Emulator, EmulatorConfig, ListSeed
from tests.daemon.process import Daemon
from tests.fixtures_emulator import TEST_API_KEY, strict_emulator_config
from tests.reconciling.world import World, emails, people

pytestmark = pytest.mark.postgres

LISTS = [f"{n}{n}{n}{n}{n}{n}{n}{n}-0000-4000-8000-00000000000{n}" for n in range(1, 5)]
NAMES = ["alpha", "bravo", "charlie", "delta"]


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return strict_emulator_config(
        lists=[ListSeed(id=list_id, name=name) for list_id, name in zip(LISTS, NAMES, strict=True)],
        job_delay=0.2,
    )


@pytest.fixture
def world(tmp_path: Path, emulator: Emulator, postgres_dsn: str) -> World:
    built = World(tmp_path, emulator)
    built.ledger.close()
    for n, (name, list_id) in enumerate(zip(NAMES, LISTS, strict=True)):
        built.destination(
            {"all": built.csv(name, people(n * 100, 25))},
            name=name,
            sendgrid={"apiKey": {"env": "SENDGRID_API_KEY"}, "listId": list_id},
            schedule={"interval": "1s"},
        )
    built.settings = built.settings.model_copy(update={"state": postgres_dsn})
    return built


def replica_env(world: World, replica: str, claim_interval: float = 0.3) -> dict[str, str]:
    return {
        "SENDGRID_API_KEY": TEST_API_KEY,
        "SYNCD_SENDGRID_BASE_URL": world.emulator.url,
        "SYNCD_DESTINATIONS": str(world.destinations),
        "SYNCD_STATE": world.settings.state,
        "SYNCD_REPLICA_ID": replica,
        "SYNCD_CLAIM_INTERVAL": str(claim_interval),
        "SYNCD_JOB_POLL_MAX_INTERVAL": "0.1",
        "SYNCD_LOG_FORMAT": "json",
        "SYNCD_RESCAN_INTERVAL": "5",
    }


class Replica(Daemon):
    def __init__(self, world: World, replica: str, claim_interval: float = 0.3) -> None:
        env = replica_env(world, replica, claim_interval)
        super().__init__(env)
        self.replica = replica
        self.log = world.root / f"{replica}.log"

    async def owned(self) -> set[str]:
        status, body = await self.get("/v1/destinations")
        assert status == 200
        return {d["name"] for d in body["destinations"] if d["owned"]}


@pytest.fixture
async def replicas(world: World) -> AsyncIterator[list[Replica]]:
    started: list[Replica] = []
    yield started
    for replica in started:
        await replica.kill()


def overlapping_runs(dsn: str, open_until: float = 1e12) -> list[tuple[str, int, int]]:
    """Runs of one destination whose time spans overlap (there must be none). A run without
    an end lasts until `open_until`: for ever, unless its process was killed then."""
    with psycopg.connect(dsn) as db:
        rows = db.execute(
            b"SELECT destination, id, started_at, coalesce(ended_at, %s) FROM runs"
            b" ORDER BY destination, started_at",
            (open_until,),
        ).fetchall()
    overlaps = []
    for previous, current in itertools.pairwise(rows):
        if previous[0] == current[0] and current[2] < previous[3]:
            overlaps.append((current[0], previous[1], current[1]))
    return overlaps


async def all_owned(replicas: list[Replica]) -> dict[str, str]:
    owners: dict[str, str] = {}
    for replica in replicas:
        for name in await replica.owned():
            assert name not in owners, f"{name} owned by {owners.get(name)} and {replica.replica}"
            owners[name] = replica.replica
    return owners


async def settle(replicas: list[Replica], world: World, within: float = 20) -> dict[str, str]:
    async with asyncio.timeout(within):
        while True:
            owners = await all_owned(replicas)
            equal = all(
                world.emulator.state.list_members(list_id) == emails(people(n * 100, 25))
                for n, list_id in enumerate(LISTS)
            )
            if set(owners) == set(NAMES) and equal:
                return owners
            await asyncio.sleep(0.2)


@pytest.mark.slow
async def test_two_replicas_share_the_work_and_never_run_one_destination_twice_at_once(
    world: World, replicas: list[Replica]
) -> None:
    for name in ("r1", "r2"):
        replica = Replica(world, name)
        await replica.start()
        replicas.append(replica)
    await asyncio.sleep(4)  # several 1 s refreshes on each side
    owners = await settle(replicas, world)
    assert sorted(owners.values()).count("r1") == 2, owners  # a fair share each
    assert overlapping_runs(world.settings.state) == []
    for replica in replicas:  # only the owner publishes a destination's timestamps
        _, scrape = await replica.get("/metrics")
        published = {
            line.split('destination="')[1].split('"')[0]
            for line in scrape.splitlines()
            if line.startswith("syncd_last_success_timestamp_seconds{")
        }
        assert published == {n for n, owner in owners.items() if owner == replica.replica}


@pytest.mark.slow
async def test_a_killed_replicas_destinations_move_to_the_others(
    world: World, replicas: list[Replica]
) -> None:
    for name in ("r1", "r2", "r3"):
        replica = Replica(world, name)
        await replica.start()
        replicas.append(replica)
    owners = await settle(replicas, world)
    victim = next(r for r in replicas if r.replica in owners.values())
    orphans = {name for name, owner in owners.items() if owner == victim.replica}
    killed_at = time.monotonic()
    await victim.kill()
    # A run the kill cut short stays open in the ledger; its process ran it no further.
    dead_since = time.time()
    survivors = [r for r in replicas if r is not victim]
    async with asyncio.timeout(15):
        while not orphans <= set(await all_owned(survivors)):
            await asyncio.sleep(0.05)
    takeover = time.monotonic() - killed_at
    print(f"takeover after kill -9 with a 0.3 s claim interval: {takeover:.2f} s")
    assert takeover < 5  # ≈ the dead replica's heartbeat TTL (3 rounds) plus one round
    await settle(survivors, world)
    assert overlapping_runs(world.settings.state, open_until=dead_since) == []
