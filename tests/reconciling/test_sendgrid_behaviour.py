"""SendGrid's slower, stricter answers: a lagging search, the contact limit, missing scopes.

Against the strict emulator over real HTTP; the search lag on fake loop time.
"""

from __future__ import annotations

import asyncio
import os
import sys

import aiohttp
import pytest

from syncd.cli.reports import run_text
from syncd.emulator import ALL_SCOPES, Emulator, EmulatorConfig, ListSeed
from syncd.ledger import RETRY_BUDGET
from tests.cli.test_explain import story
from tests.fixtures_emulator import TEST_API_KEY, TEST_LIST_ID, strict_emulator_config
from tests.reconciling.world import Row, World, emails, people

UPSERT = "PUT /v3/marketing/contacts"
SEARCH = "POST /v3/marketing/contacts/search/emails"
JOB = "GET /v3/marketing/contacts/imports/{id}"


async def synced(w: World, rows: list[Row]) -> list[Row]:
    """The destination's one segment holding `rows`, synced; the rows."""
    w.destination({"vip": w.csv("vip", rows)})
    assert (await w.sync()).outcome == "success"
    return rows


class TestASearchThirtySecondsBehind:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(search_lag=30.0)

    @pytest.mark.looptime(idle_step=0.01)
    async def test_a_removal_waits_for_search_and_is_carried_out_by_a_later_run(
        self, sync_world: World
    ) -> None:
        w = sync_world
        rows = await synced(w, people(0, 10))
        w.csv("vip", rows[:8])  # two leave before search shows them at all

        early = await w.sync()

        assert early.outcome == "success"
        assert early.applied.pending_removals == 2
        assert early.requeue_after is not None
        assert w.members() == emails(rows)  # not forgotten, not removed yet
        shown = await status(w)
        assert "2 waiting on SendGrid's search" in shown
        await asyncio.sleep(31)
        sent = await w.sync()  # found now: removed, then waits for search to confirm
        assert w.members() == emails(rows[:8])
        assert sent.applied.pending_removals == 2
        await asyncio.sleep(31)
        confirmed = await w.sync()
        assert (confirmed.applied.pending_removals, confirmed.applied.removed) == (0, 2)
        assert confirmed.counts()["gone"] == 2

    @pytest.mark.looptime(idle_step=0.01)
    async def test_removals_confirmed_once_are_not_held_back_again_while_search_lags(
        self, sync_world: World
    ) -> None:
        # A person confirmed the removals; they were sent, and wait for search to show
        # them gone: the next ordinary run weighed them again and was blocked again.
        w = sync_world
        rows = await synced(w, people(0, 10))
        await asyncio.sleep(31)
        w.csv("vip", rows[:5])
        assert (await w.sync()).outcome == "guard"
        confirmed = await w.sync(allow_removals=True)
        assert (confirmed.outcome, confirmed.applied.pending_removals) == ("success", 5)

        after = await w.sync()

        assert after.outcome == "success", after.error
        assert after.plan is not None
        assert after.plan.removal_guard is None
        await asyncio.sleep(31)
        done = await w.sync()
        assert (done.outcome, done.applied.pending_removals) == ("success", 0)
        assert w.members() == emails(rows[:5])
        w.csv("vip", rows[:1])  # new leavers are weighed as ever
        assert (await w.sync()).outcome == "guard"


async def status(w: World) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncd",
        "status",
        "members",
        "--state",
        w.settings.state,
        env={**os.environ, "SYNCD_DESTINATIONS": str(w.destinations)},
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


class TestAFullAccountThatRefusesEachContactPastItsLimit:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(contact_limit=5, contact_limit_per_contact=True)

    async def test_the_contacts_past_the_limit_are_never_charged_and_land_once_it_is_raised(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        # The limit's message on each row of the errors file: each contact was charged a
        # retry a run, and given up for good after three, plan raised or not.
        w = sync_world
        rows = people(0, 10)
        w.destination({"vip": w.csv("vip", rows)})

        for _ in range(RETRY_BUDGET + 1):
            full = await w.sync()
            assert (full.outcome, full.recheck) == ("permanent", True), full.error
            assert "SendGrid had no room for 5 contact(s): you have hit your contact limit" in (
                full.error or ""
            )
            assert full.rejected == 0  # nothing charged to the contacts
        assert len(w.members()) == 5  # what fitted is on the list, and acknowledged
        emulator.services.behaviour = emulator.services.behaviour.changed({"contact_limit": None})
        landed = await w.sync()
        assert landed.outcome == "success", landed.error
        assert landed.applied.upserted == 5
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


class TestALegacyAccount:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(legacy_account=True)

    async def test_a_403_despite_the_scopes_says_the_account_may_be_legacy(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        w = sync_world
        w.destination({"vip": w.csv("vip", people(0, 3))})
        report = await w.sync()
        assert report.outcome == "permanent"
        assert "legacy Marketing Campaigns" in (report.error or "")
        assert emulator.write_requests() == []


OTHER_LIST = "2e9f5c1a-4d6b-4e0a-9c74-5a8b2d3e4f63"


def move_to_the_other_list(w: World, rows: list[Row]) -> None:
    """The destination's file now names OTHER_LIST, its segment `rows`."""
    key = {"env": "SENDGRID_API_KEY"}
    w.destination({"vip": w.csv("vip", rows)}, sendgrid={"apiKey": key, "listId": OTHER_LIST})


class TestADestinationMovedToAListThatHoldsContactsAlready:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        lists = [ListSeed(id=TEST_LIST_ID, name="members"), ListSeed(id=OTHER_LIST, name="other")]
        return strict_emulator_config(lists=lists)

    async def test_leavers_syncd_put_on_the_former_list_are_not_taken_off_the_new_one(
        self, sync_world: World
    ) -> None:
        w = sync_world
        rows = await synced(w, people(0, 20))
        kept_by_others = ["person.18@example.com", "person.19@example.com"]
        edit = {"op": "list", "list_id": OTHER_LIST, "emails": kept_by_others}
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{w.emulator.url}/_emulator/hand-edits", json=[edit]) as reply,
        ):
            assert reply.status == 200, await reply.text()
        move_to_the_other_list(w, rows[:18])  # two leave the segment as it moves lists

        moved = await w.sync()

        assert moved.outcome == "success", moved.error
        on_other = w.emulator.state.list_members(OTHER_LIST)
        assert on_other == emails(rows)  # 18 sent; the two put there by others stay
        assert w.emulator.state.list_members(TEST_LIST_ID) == emails(rows)  # left alone
        reasons = {r.email: r.reason for r in moved.moved_away}
        assert set(reasons) == set(kept_by_others)
        assert all("former list" in reason for reason in reasons.values())
        counts = moved.counts()  # told apart, as the plan counts them: not rejected
        assert (counts["gone"], counts["moved_away"], counts["rejected"]) == (0, 2, 0)
        assert moved.rejections == []
        assert " leaving the list: left the segment, but syncd put it" in run_text(moved)
        for email in kept_by_others:  # nothing was done to them: no departure to tell
            record = w.ledger.contact("members", email)
            assert (record.acknowledged, record.departed) == (None, None)
            assert record.rejection is not None
            assert "former list" in record.rejection.reason
        assert (await w.sync()).applied.pending_removals == 0
        told = await story(w, kept_by_others[0])  # not "syncd has no record of it"
        assert told["state"] == "unknown"
        assert "destination's former list" in told["summary"]

    async def test_leavers_of_the_former_list_do_not_trip_the_removal_guard(
        self, sync_world: World
    ) -> None:
        # Half the segment leaves as the destination moves lists: none of it is a removal
        # from the new list, so nothing is held back (the guard counted them as leaving).
        w = sync_world
        rows = await synced(w, people(0, 20))
        move_to_the_other_list(w, rows[:10])

        moved = await w.sync()

        assert moved.outcome == "success", moved.error
        assert moved.plan is not None
        assert moved.plan.removal_guard is None
        assert (moved.counts()["gone"], moved.counts()["moved_away"]) == (0, 10)
        assert w.emulator.state.list_members(OTHER_LIST) == emails(rows[:10])
        assert w.emulator.state.list_members(TEST_LIST_ID) == emails(rows)
