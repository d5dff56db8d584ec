"""SendGrid's slower, stricter answers: a lagging search, the contact limit, missing scopes.

Against the strict emulator over real HTTP; the search lag on fake loop time.
"""

from __future__ import annotations

import asyncio
import sys

import pytest

from syncd.emulator import ALL_SCOPES, Emulator, EmulatorConfig
from tests.fixtures_emulator import TEST_API_KEY, strict_emulator_config
from tests.reconciling.world import World, emails, people


class TestASearchThirtySecondsBehind:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(search_lag=30.0)

    @pytest.mark.looptime(idle_step=0.01)
    async def test_a_removal_waits_for_search_and_is_carried_out_by_a_later_run(
        self, sync_world: World
    ) -> None:
        w = sync_world
        rows = people(0, 10)
        w.destination({"vip": w.csv("vip", rows)})
        assert (await w.sync()).outcome == "success"
        w.csv("vip", rows[:8])  # two leave before search shows them at all

        early = await w.sync()

        assert early.outcome == "success"
        assert early.applied.pending_removals == 2
        assert early.requeue_after is not None
        assert w.members() == emails(rows)  # not forgotten, not removed yet
        shown = await status(w)
        assert "pending_removals=2" in shown
        await asyncio.sleep(31)
        sent = await w.sync()  # found now: removed, then waits for search to confirm
        assert w.members() == emails(rows[:8])
        assert sent.applied.pending_removals == 2
        await asyncio.sleep(31)
        confirmed = await w.sync()
        assert (confirmed.applied.pending_removals, confirmed.applied.removed) == (0, 2)
        assert confirmed.counts()["gone"] == 2


async def status(w: World) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncd",
        "status",
        "members",
        "--state",
        w.settings.state,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


class TestTheAccountsContactLimit:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(contact_limit=5)

    async def test_a_full_account_stalls_with_sendgrids_message_then_lands_every_contact(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        w = sync_world
        rows = people(0, 10)
        w.destination({"vip": w.csv("vip", rows)})

        full = await w.sync()

        assert (full.outcome, full.recheck) == ("permanent", True)
        assert "you have hit your contact limit" in (full.error or "")
        assert full.rejected == 0  # nothing charged to the contacts
        assert w.members() == set()
        emulator.services.behaviour = emulator.services.behaviour.changed({"contact_limit": None})
        landed = await w.sync()
        assert landed.outcome == "success"
        assert w.members() == emails(rows)


class TestAKeyWithoutTheDeleteScope:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        scopes = frozenset(ALL_SCOPES - {"marketing_campaigns.delete"})
        return strict_emulator_config(api_keys={TEST_API_KEY: scopes})

    async def test_a_run_fails_before_any_write_naming_the_missing_scope(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        w = sync_world
        w.destination({"vip": w.csv("vip", people(0, 10))})

        refused = await w.sync()

        assert refused.outcome == "permanent"
        assert "marketing_campaigns.delete" in (refused.error or "")
        assert "onLeave" in (refused.error or "")
        assert emulator.write_requests() == []

    async def test_a_destination_that_keeps_leavers_needs_no_delete_scope(
        self, sync_world: World
    ) -> None:
        w = sync_world
        w.destination({"vip": w.csv("vip", people(0, 10))}, onLeave="keep")
        assert (await w.sync()).outcome == "success"
