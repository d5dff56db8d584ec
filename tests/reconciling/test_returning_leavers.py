"""A leaver back in the segment before SendGrid applied its removal: re-added only once the
removal has landed (or its grace has passed), never undone by it while the ledger holds it
acknowledged."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from structlog.testing import capture_logs

from syncd.emulator import EmulatorConfig, FaultRule
from syncd.ledger import Returning
from syncd.reconciling import RunReport
from syncd.reconciling.context import Limits
from syncd.reconciling.leaver_sorting import sort_returning
from syncd.scheduling.readiness import ready_message
from syncd.sendgrid import Found, Lookup
from tests.cli.test_explain import story
from tests.fixtures_emulator import strict_emulator_config
from tests.reconciling.world import Row, World, emails, people

REMOVE = "DELETE /v3/marketing/lists/{id}/contacts"
UPSERT = "PUT /v3/marketing/contacts"
SEARCH = "POST /v3/marketing/contacts/search/emails"
LEAVER = "person.9@example.com"


async def left_with_its_removal_in_flight(w: World) -> list[dict[str, str]]:
    """Ten members synced; person.9 leaves, its removal is accepted but SendGrid holds the
    job (list-removal jobs cannot be polled: search is syncd's only witness); returns the
    ten rows."""
    rows = people(0, 10)
    w.destination({"vip": w.csv("vip", rows)})
    assert (await w.sync()).outcome == "success"
    # Held until the test lets it go: jobs applied late, after later ones.
    w.emulator.faults.add(FaultRule(kind="out_of_order", template=REMOVE, seconds=3600))
    w.csv("vip", rows[:9])
    left = await w.sync()
    assert left.outcome == "success", left.error
    assert left.applied.pending_removals == 1  # search still shows it on the list
    return rows


async def re_added_once_the_removal_lands(w: World, rows: list[dict[str, str]]) -> None:
    """SendGrid applies the removal it held; the next run re-adds the returning leaver,
    which then lands: every row's contact on the list."""
    await w.emulator.settle()
    again = await w.sync()
    assert (again.counts()["held"], again.counts()["upserted"]) == (0, 1)
    await w.emulator.settle()
    assert w.members() == emails(rows)


async def test_a_leaver_back_before_its_removal_lands_is_re_added_after_it(
    sync_world: World,
) -> None:
    w = sync_world
    rows = await left_with_its_removal_in_flight(w)
    w.csv("vip", rows)  # back, while SendGrid has yet to apply its removal

    back = await w.sync()

    assert back.outcome == "success", back.error
    counts = back.counts()
    assert (counts["held"], counts["upserted"], counts["changed"]) == (1, 0, 0)
    assert back.requeue_after is not None  # looked at again soon, not at the next schedule
    assert "1 contact held" in ready_message("members", counts)
    upserts = [r for r in w.emulator.requests if r.template == UPSERT]

    await w.emulator.settle()  # the removal lands, late
    assert LEAVER not in w.members()
    again = await w.sync()

    assert again.outcome == "success", again.error
    assert again.counts()["upserted"] == 1
    assert len([r for r in w.emulator.requests if r.template == UPSERT]) == len(upserts) + 1
    await w.emulator.settle()
    assert w.members() == emails(rows)
    settled = await w.sync()
    assert settled.counts()["held"] == 0
    with sqlite3.connect(w.settings.state) as db:
        assert db.execute("SELECT email FROM removals").fetchall() == []


async def test_a_returning_leaver_is_re_added_once_its_removals_grace_has_passed(
    sync_world: World,
) -> None:
    # SendGrid may have accepted a removal it never applies (the contact stays on the
    # list): the re-add waits no longer than the grace a removal gets to show.
    w = sync_world
    rows = await left_with_its_removal_in_flight(w)
    w.csv("vip", rows)
    w.settings = w.settings.model_copy(update={"search_lag_grace": 0.0})

    back = await w.sync()

    assert back.outcome == "success", back.error
    assert (back.counts()["held"], back.counts()["upserted"]) == (0, 1)


@pytest.mark.looptime(idle_step=0.01)
async def test_a_search_outage_holds_returning_leavers_and_nobody_else(
    sync_world: World,
) -> None:
    # Their re-add waits on search; the other contacts' changes do not: without a returning
    # leaver a search outage never held back the upserts (leavers are looked up after them).
    w = sync_world
    rows = await left_with_its_removal_in_flight(w)
    rows[0] = dict(rows[0], FirstName="Changed")
    w.csv("vip", rows)  # person.9 back, person.0 changed
    w.emulator.faults.add(FaultRule(kind="status", template=SEARCH, status=503))

    back = await w.sync()

    assert back.outcome == "success", back.error
    assert (back.counts()["held"], back.counts()["upserted"]) == (1, 1)
    assert back.requeue_after is not None
    changed = w.emulator.state.contact("person.0@example.com")
    assert changed is not None
    assert changed["first_name"] == "Changed"
    w.emulator.faults.clear()
    await re_added_once_the_removal_lands(w, rows)  # the removal lands; search answers again


async def test_a_leaver_kept_while_its_removal_was_in_flight_waits_for_it_if_it_comes_back(
    sync_world: World,
) -> None:
    # onLeave turned to keep while the removal was on its way: the leaver leaves the ledger,
    # but the removal may still land; if it comes back, it waits for it like any other.
    w = sync_world
    rows = await left_with_its_removal_in_flight(w)
    w.destination({"vip": w.csv("vip", rows[:9])}, onLeave="keep")
    assert (await w.sync()).outcome == "success"
    w.csv("vip", rows)

    back = await w.sync()

    assert back.outcome == "success", back.error
    assert (back.counts()["held"], back.counts()["upserted"]) == (1, 0)
    assert "back in the segment after syncd sent its removal" in (await story(w, LEAVER))["summary"]
    await re_added_once_the_removal_lands(w, rows)  # the removal lands, late


async def test_kept_leavers_back_to_a_destination_that_holds_nobody_wait_for_their_removal(
    sync_world: World,
) -> None:
    # Nothing acknowledged any more (everyone left, kept), but removals went that may still
    # land: not a first export (which sends every row as it is built), a run that holds them.
    w = sync_world
    rows = await left_with_its_removal_in_flight(w)
    w.destination({"vip": w.csv("vip", [])}, onLeave="keep")
    assert (await w.sync(allow_removals=True)).outcome == "success"
    w.destination({"vip": w.csv("vip", rows)}, onLeave="keep")

    back = await w.sync()

    assert back.outcome == "success", back.error
    assert (back.counts()["held"], back.counts()["upserted"]) == (1, 9)
    await w.emulator.settle()  # the removal lands, late
    assert (await w.sync()).counts()["upserted"] == 1
    await w.emulator.settle()
    assert w.members() == emails(rows)


async def test_a_plan_counts_a_returning_leaver_held_and_searches_nothing(
    sync_world: World,
) -> None:
    w = sync_world
    rows = await left_with_its_removal_in_flight(w)
    w.csv("vip", rows)
    searches = len(w.emulator.requests)

    plan = await w.sync(dry_run=True)

    assert plan.counts()["held"] == 1
    assert plan.preview is not None
    assert plan.preview.updates == 0
    asked = {r.template for r in w.emulator.requests[searches:]}
    assert not asked & {SEARCH, UPSERT}, asked


async def test_explain_tells_a_held_returning_leaver_and_its_removal(sync_world: World) -> None:
    w = sync_world
    rows = await left_with_its_removal_in_flight(w)
    w.csv("vip", rows)
    assert (await w.sync()).counts()["held"] == 1

    told = await story(w, LEAVER)

    assert told["state"] == "toUpdate"
    assert "back in the segment after syncd sent its removal" in told["summary"]
    assert told["pendingRemoval"]["sends"] == 1


def test_a_returning_leaver_waits_for_search_to_show_its_removal() -> None:
    limits = Limits(search_lag_grace=600.0)
    back = [Returning("a@x.io", sent_at=900.0)]

    def sort(found: Lookup, now: float = 1000.0) -> tuple[list[str], list[str]]:
        return sort_returning(back, found, list_id="L", limits=limits, now=now)

    on_list = Lookup(found={"a@x.io": Found("id-a", "a@x.io", frozenset({"L"}), {})})
    off_list = Lookup(found={"a@x.io": Found("id-a", "a@x.io", frozenset({"M"}), {})})
    assert sort(on_list) == ([], ["a@x.io"])  # the removal may still land
    assert sort(off_list) == (["a@x.io"], [])  # it landed
    assert sort(Lookup()) == (["a@x.io"], [])  # out of the account
    assert sort(Lookup(unclear={"a@x.io": "no id"})) == ([], ["a@x.io"])
    assert sort(on_list, now=1500.0) == (["a@x.io"], [])  # its grace has passed


class TestALeaverWhoComesBackWhileSearchLags:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(search_lag=30.0)

    @pytest.mark.looptime(idle_step=0.01)
    async def test_before_the_removal_is_confirmed_is_re_added_once_search_shows_it_applied(
        self, sync_world: World
    ) -> None:
        w = sync_world
        rows = people(0, 10)
        left = await leave_once_searchable(w, rows, stay=8)
        assert (left.applied.pending_removals, left.applied.removed) == (2, 0)  # not confirmed
        assert w.members() == emails(rows[:8])  # SendGrid applied the removal job
        w.csv("vip", rows)  # back before search showed them gone (a churning segment)

        back = await w.sync()

        # Never taken for still on the list, nor re-added while the removal may still land
        # after the re-add: held until search shows the removal applied.
        assert back.outcome == "success"
        assert (back.applied.upserted, back.counts()["held"]) == (0, 2)
        assert back.applied.pending_removals == 0
        await asyncio.sleep(31)  # search catches up
        again = await w.sync()
        assert (again.applied.upserted, again.counts()["held"]) == (2, 0)
        assert w.members() == emails(rows)
        assert (await w.sync()).applied.upserted == 0  # acknowledged again: nothing more

    @pytest.mark.looptime(idle_step=0.01)
    async def test_removals_in_doubt_do_not_make_the_next_runs_read_every_row(
        self, sync_world: World
    ) -> None:
        w = sync_world
        rows = people(0, 60)
        left = await leave_once_searchable(w, rows, stay=57)
        assert (left.applied.pending_removals, left.applied.removed) == (3, 0)
        changed = [dict(row) for row in rows[:57]]
        changed[10]["FirstName"] = "Changed"
        w.csv("vip", changed)

        with capture_logs() as logs:
            one = await w.sync()

        # Only the buckets that differ are staged (the changed row's, and the three in
        # doubt's), not the 57 rows; the change goes out, the removals stay pending.
        assert [e["event"] for e in logs if e["event"] == "reading.differing"] == [
            "reading.differing"
        ]
        assert 1 <= one.staged.restaged < 10
        assert (one.applied.upserted, one.applied.pending_removals) == (1, 3)

        w.csv("vip", [*changed, *rows[57:]])  # the three come back, still in doubt
        with capture_logs() as logs:
            back = await w.sync()
        assert [e["event"] for e in logs if e["event"] == "reading.differing"] == [
            "reading.differing"
        ]
        assert (back.applied.upserted, back.counts()["held"]) == (0, 3)  # removals in flight
        assert back.applied.pending_removals == 0
        await asyncio.sleep(31)  # search shows the removals applied: re-added
        with capture_logs() as logs:
            again = await w.sync()
        assert [e["event"] for e in logs if e["event"] == "reading.differing"] == [
            "reading.differing"
        ]
        assert again.applied.upserted == 3

    @pytest.mark.looptime(idle_step=0.01)
    async def test_and_leaves_again_is_removed_though_search_still_shows_it_off_the_list(
        self, sync_world: World
    ) -> None:
        w = sync_world
        rows = people(0, 10)
        assert (await leave_once_searchable(w, rows, stay=8)).applied.pending_removals == 2
        await asyncio.sleep(31)
        assert (await w.sync()).applied.removed == 2  # search shows them off the list
        w.csv("vip", rows)
        assert (await w.sync()).applied.upserted == 2  # back on the list, acknowledged
        await asyncio.sleep(1)  # search still shows them off it, as 30 s ago
        w.csv("vip", rows[:8])
        removals = removal_requests(w)

        again = await w.sync()

        # Not taken for removed already, nor sent a removal that stale view would confirm
        # (SendGrid may apply it after they come back and are re-added): pending until
        # search shows them on the list, or off it for the grace it may lag.
        assert again.outcome == "success"
        assert (again.applied.removed, again.applied.pending_removals) == (0, 2)
        assert removal_requests(w) == removals
        await asyncio.sleep(31)  # search shows them on the list: removed now
        after = await w.sync()
        assert after.applied.removed + after.applied.pending_removals == 2
        assert w.members() == emails(rows[:8])
        await asyncio.sleep(31)
        assert (await w.sync()).applied.pending_removals == 0
        assert w.members() == emails(rows[:8])

    @pytest.mark.looptime(idle_step=0.01)
    async def test_and_leaves_and_returns_again_within_the_lag_is_never_lost(
        self, sync_world: World
    ) -> None:
        # The flap a strict stand-in found: confirmed removed, back and re-added, gone
        # again while search still showed the first removal, back again. A removal sent
        # on that stale view was confirmed by it at once, and landed after the re-add.
        w = sync_world
        rows = people(0, 10)
        await leave_once_searchable(w, rows, stay=9)
        await asyncio.sleep(31)
        assert (await w.sync()).applied.removed == 1
        w.csv("vip", rows)
        assert (await w.sync()).applied.upserted == 1
        w.emulator.faults.add(FaultRule(kind="out_of_order", template=REMOVE, seconds=3600))
        w.csv("vip", rows[:9])
        assert (await w.sync()).applied.pending_removals == 1
        w.csv("vip", rows)

        back = await w.sync()

        assert back.outcome == "success", back.error
        await w.emulator.settle()  # whatever was held lands
        await asyncio.sleep(31)
        assert (await w.sync()).outcome == "success"
        await w.emulator.settle()
        assert w.members() == emails(rows)


def removal_requests(w: World) -> int:
    return sum(1 for r in w.emulator.requests if r.template == REMOVE)


async def leave_once_searchable(w: World, rows: list[Row], *, stay: int) -> RunReport:
    """Every row sent and shown by search, then all but the first `stay` leave: the run
    that sends their removals."""
    w.destination({"vip": w.csv("vip", rows)})
    assert (await w.sync()).outcome == "success"
    await asyncio.sleep(31)  # the search lag: search shows them all
    w.csv("vip", rows[:stay])
    return await w.sync()
