"""A leaver back in the segment before SendGrid applied its removal: re-added only once the
removal has landed (or its grace has passed), never undone by it while the ledger holds it
acknowledged."""

from __future__ import annotations

import sqlite3

from syncd.emulator import FaultRule
from syncd.ledger import Returning
from syncd.reconciling.context import Limits
from syncd.reconciling.leaver_sorting import sort_returning
from syncd.scheduling.readiness import ready_message
from syncd.sendgrid import Found, Lookup
from tests.cli.test_explain import story
from tests.reconciling.world import World, emails, people

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
