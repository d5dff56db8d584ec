"""Leavers leave the list once SendGrid's search confirms it; nobody else is touched."""

from __future__ import annotations

import pytest

from syncd.emulator import EmulatorConfig, FaultRule
from syncd.ledger import Leaver
from syncd.reconciling import leavers_ahead, settling
from syncd.reconciling.context import Limits
from syncd.reconciling.leaver_sorting import MAX_REMOVAL_SENDS, Sorted, sort_leavers
from syncd.scheduling.readiness import ready_message
from syncd.sendgrid import Found, Lookup
from syncd.settings import Settings
from tests.cli.test_explain import cli
from tests.fixtures_emulator import strict_emulator_config
from tests.reconciling.world import Row, World, emails, people

SEARCH = "POST /v3/marketing/contacts/search/emails"
REMOVE = "DELETE /v3/marketing/lists/{id}/contacts"
POLL = "GET /v3/marketing/contacts/imports/{id}"
UPSERT = "PUT /v3/marketing/contacts"


async def three_hundred_fifty_leave(w: World) -> list[Row]:
    """2,000 members synced, then a segment without 350 of them (17.5 %: under the
    removal guard's 20 %), four removal batches; returns the rows that stay."""
    rows = people(0, 2_000)
    w.destination({"vip": w.csv("vip", rows)})
    await w.sync()
    w.csv("vip", rows[350:])
    return rows[350:]


async def all_removed_in_one_run(w: World, stay: list[Row]) -> list[str]:
    """Sync once: the leavers are confirmed gone in this run, the rest stay; the templates
    of the requests the run made, as answered."""
    before = len(w.emulator.requests)
    report = await w.sync()
    assert report.outcome == "success", report.error
    assert (report.applied.removed, report.applied.pending_removals) == (350, 0)
    assert w.members() == emails(stay)
    return [r.template for r in w.emulator.requests[before:]]


def contact_id(w: World, email: str) -> str:
    contact = w.emulator.state.contact(email)
    assert contact is not None
    return str(contact["id"])


async def test_a_confirmed_removal_leaves_the_list_and_the_ledger(sync_world: World) -> None:
    w = sync_world
    rows = people(0, 10)
    w.destination({"vip": w.csv("vip", rows)})
    await w.sync()
    w.csv("vip", rows[:8])

    report = await w.sync()

    assert report.outcome == "success"
    assert (report.applied.removed, report.applied.pending_removals) == (2, 0)
    assert report.requeue_after is None
    assert w.members() == emails(rows[:8])
    quiet = await w.sync()
    assert quiet.counts()["gone"] == 0


async def test_removal_jobs_that_end_together_are_confirmed_together(sync_world: World) -> None:
    """350 leavers: four removal jobs, their states asked together and their leavers
    confirmed in one lookup, whose searches still carry a hundred addresses each."""
    w = sync_world
    stay = await three_hundred_fifty_leave(w)
    searches = w.emulator.count_requests(template=SEARCH)

    report = await w.sync()

    assert report.outcome == "success"
    assert (report.applied.removed, report.applied.pending_removals) == (350, 0)
    assert w.members() == emails(stay)
    assert w.emulator.count_requests(template=REMOVE) == 4
    # Four to find the leavers' ids, four to confirm them off the list.
    assert w.emulator.count_requests(template=SEARCH) - searches == 8
    quiet = await w.sync()
    assert quiet.counts()["gone"] == 0


async def test_pages_of_leavers_are_looked_up_ahead_of_their_removals(
    sync_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """350 leavers in pages of 100: four pages, each one search and one removal request;
    the search for a page is asked before the removal of the page before it."""
    w = sync_world
    stay = await three_hundred_fifty_leave(w)
    monkeypatch.setattr(leavers_ahead, "PAGE", 100)
    monkeypatch.setattr(leavers_ahead, "PAGES_AHEAD", 2)
    made = await all_removed_in_one_run(w, stay)
    asked = [template for template in made if template in (SEARCH, REMOVE)]
    # Four searches for the four pages' ids, four removals, then four to confirm.
    assert asked.count(REMOVE) == 4
    assert asked.count(SEARCH) == 8
    assert asked[:2] == [SEARCH, SEARCH]  # page 2 looked up before page 1's removal
    assert (await w.sync()).counts()["gone"] == 0


async def test_a_window_of_removal_jobs_is_confirmed_while_the_next_is_polled(
    sync_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four removal jobs, polled one window at a time here, every search answered 0.2 s
    late: the search confirming a window's leavers goes while the next window is polled
    and closed, and every leaver is still confirmed in this run."""
    w = sync_world
    stay = await three_hundred_fifty_leave(w)
    monkeypatch.setattr(settling, "POLL_AHEAD", 1)
    w.emulator.faults.add(FaultRule(kind="delay", template=SEARCH, seconds=0.2))
    made = await all_removed_in_one_run(w, stay)
    asked = [template for template in made if template in (SEARCH, POLL)]
    after_removals = asked[-8:]  # recorded as answered: a late search after the next poll
    assert after_removals == [POLL, POLL, SEARCH, POLL, SEARCH, POLL, SEARCH, SEARCH]
    assert (await w.sync()).counts()["gone"] == 0


class TestLeaversWhileTheUpsertsJobRuns:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        # Long enough for four searches on a loaded machine (half a second was not, 2 runs
        # in 5 beside other tests): the order is what is checked, not the time.
        return strict_emulator_config(job_delay=2.0)

    async def test_leavers_are_looked_up_while_the_upserts_job_runs_and_removed_after_it(
        self, sync_world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """350 leave and 10 change: the leavers' four pages are looked up while SendGrid
        works on the upserts' job (two seconds here), their removals sent only once
        that job is recorded, as before."""
        w = sync_world
        rows = people(0, 2_000)
        w.destination({"vip": w.csv("vip", rows)})
        await w.sync()
        changed = [{**row, "FirstName": "Changed"} for row in rows[350:360]]
        w.csv("vip", [*changed, *rows[360:]])
        monkeypatch.setattr(leavers_ahead, "PAGE", 100)
        before = len(w.emulator.requests)

        report = await w.sync()

        assert report.outcome == "success", report.error
        # Removal jobs are not pollable here: their leavers wait on search (a later run).
        applied = report.applied
        assert (applied.upserted, applied.removed + applied.pending_removals) == (10, 350)
        asked = [r.template for r in w.emulator.requests[before:]]
        first_removal = asked.index(REMOVE)
        last_upsert_poll = max(i for i, t in enumerate(asked[:first_removal]) if t == POLL)
        lookups = [i for i, t in enumerate(asked[:first_removal]) if t == SEARCH]
        assert len(lookups) == 4
        assert max(lookups) < last_upsert_poll  # found while the job was still pending
        assert asked.index(UPSERT) < min(lookups)


async def test_a_leaver_deleted_from_sendgrid_meanwhile_is_looked_for_then_reported(
    sync_world: World,
) -> None:
    w = sync_world
    rows = people(0, 10)
    w.destination({"vip": w.csv("vip", rows)})
    await w.sync()
    gone = "person.9@example.com"
    w.emulator.state.delete_contacts([contact_id(w, gone)])
    w.csv("vip", rows[:9])

    pending = await w.sync()

    assert pending.outcome == "success"
    assert pending.applied.pending_removals == 1  # not found yet: search may lag
    assert pending.requeue_after is not None
    assert pending.rejections == []
    w.settings = replace_window(w, 0.001)
    reported = await w.sync()
    assert reported.applied.pending_removals == 0
    (rejection,) = reported.rejections
    assert rejection.email == gone
    assert "has not found it" in rejection.reason
    assert (await w.sync()).counts()["gone"] == 0


async def test_a_leaver_found_only_as_somebody_elses_alternate_email_leaves_them_alone(
    sync_world: World,
) -> None:
    w = sync_world
    rows = people(0, 10)
    w.destination({"vip": w.csv("vip", rows)})
    await w.sync()
    leaver, other = "person.9@example.com", "person.0@example.com"
    w.emulator.state.delete_contacts([contact_id(w, leaver)])
    owner = w.emulator.state.contacts[other]
    owner.alternate_emails.append(leaver)
    w.emulator.state._email_by_alternate[leaver] = other
    w.csv("vip", rows[:9])

    report = await w.sync()

    assert other in w.members()
    assert w.emulator.count_requests(template=REMOVE) == 0
    assert report.applied.pending_removals == 1


async def test_a_leaver_whose_address_search_cannot_take_is_reported_once(
    sync_world: World,
) -> None:
    w = sync_world
    rows = people(0, 5)
    address = "a" * 40 + "@" + "b" * 60 + "." + "c" * 15 + ".com"  # 120 characters
    long = {**rows[0], "EmailAddress": address}
    w.destination({"vip": w.csv("vip", [*rows, long])})
    await w.sync()
    assert address in w.members()
    w.csv("vip", rows)

    report = await w.sync()

    (rejection,) = report.rejections
    assert rejection.email == address
    assert "at most 100 characters" in rejection.reason
    searches = w.emulator.count_requests(template=SEARCH)
    again = await w.sync()
    assert again.rejections == []
    assert w.emulator.count_requests(template=SEARCH) == searches
    # Still on the list: every later run counts it (and the status says so), where only
    # the run that gave up told it and the next said "the list equals the segments".
    assert again.counts()["not_removed"] == 1
    assert "1 leaver syncd could not take off the list" in ready_message("vip", again.counts())
    # `syncd status NAME --rejections` lists it too, not only after the run that gave up.
    code, out, err = await cli(w, "status", "members", "--rejections")
    assert code == 0, out + err
    assert address in out
    assert "gave up taking it off the list" in out
    assert "1 leaver(s) given up on before" in err


async def test_a_removal_refused_because_an_id_no_longer_exists_is_resolved_again(
    sync_world: World,
) -> None:
    w = sync_world
    rows = people(0, 10)
    w.destination({"vip": w.csv("vip", rows)})
    await w.sync()
    w.emulator.faults.add(FaultRule(kind="status", template=REMOVE, status=404, times=1))
    w.csv("vip", rows[:8])

    report = await w.sync()

    assert report.outcome == "success"
    assert w.members() == emails(rows[:8])
    statuses = [r.status for r in w.emulator.requests if r.template == REMOVE]
    assert statuses[0] == 404
    assert statuses[1:] == [202] * (len(statuses) - 1)


async def test_one_refused_removal_among_several_in_flight_is_resolved_and_the_rest_kept(
    sync_world: World,
) -> None:
    w = sync_world
    w.emulator.faults.add(FaultRule(kind="status", template=REMOVE, status=404, times=1))
    stay = await three_hundred_fifty_leave(w)

    report = await w.sync()

    assert report.outcome == "success"
    assert (report.applied.removed, report.applied.pending_removals) == (350, 0)
    assert w.members() == emails(stay)
    statuses = [r.status for r in w.emulator.requests if r.template == REMOVE]
    assert statuses.count(404) == 1
    assert statuses.count(202) == len(statuses) - 1 >= 4
    quiet = await w.sync()
    assert quiet.counts()["gone"] == 0


async def test_a_refused_upsert_is_split_never_sent_twice_and_everyone_lands(
    sync_world: World,
) -> None:
    w = sync_world
    rows = people(0, 40)
    w.destination({"vip": w.csv("vip", rows)})
    w.emulator.faults.add(
        FaultRule(kind="status", template="PUT /v3/marketing/contacts", status=400, times=1)
    )

    report = await w.sync()

    assert report.outcome == "success"
    assert w.members() == emails(rows)
    bodies = [e.body for e in w.emulator.exchanges if e.template == "PUT /v3/marketing/contacts"]
    assert len(bodies) == 3  # refused whole, then its two halves
    assert len(set(bodies)) == 3


def replace_window(w: World, seconds: float) -> Settings:
    return w.settings.model_copy(update={"removal_window": seconds})


def test_a_removal_sendgrid_accepted_but_did_not_apply_is_sent_again_then_reported() -> None:
    # SendGrid has answered 202 to removals it did not apply (sendgrid-nodejs#1170): search
    # still shows the contact on the list after the grace period.
    limits = Limits(search_lag_grace=600.0)
    on_list = Lookup(found={"a@x.io": Found("id-a", "a@x.io", frozenset({"L"}), {})})

    def sort(sent_at: float, sends: int) -> Sorted:
        leaver = Leaver("a@x.io", first_missed_at=None, sent_at=sent_at, sends=sends)
        return sort_leavers([leaver], on_list, "remove", list_id="L", limits=limits, now=1000.0)

    assert sort(sent_at=900.0, sends=1) == Sorted()  # within the grace: wait for search
    assert sort(sent_at=100.0, sends=1).remove == {"a@x.io": "id-a"}  # sent again
    given_up = sort(sent_at=100.0, sends=MAX_REMOVAL_SENDS).given_up["a@x.io"]
    assert "still shows it on the list" in given_up


def test_a_leaver_search_shows_off_the_list_before_any_removal_waits_out_the_grace() -> None:
    # Search may show it as before a re-add: no removal (that view would confirm it), not
    # done yet; done once search has shown it off for the grace it may lag.
    limits = Limits(search_lag_grace=600.0)
    off = Lookup(found={"a@x.io": Found("id-a", "a@x.io", frozenset({"M"}), {})})

    def sort(first_missed_at: float | None) -> Sorted:
        leaver = Leaver("a@x.io", first_missed_at=first_missed_at, sent_at=None)
        return sort_leavers([leaver], off, "remove", list_id="L", limits=limits, now=1000.0)

    assert sort(None) == Sorted(missed=["a@x.io"])
    assert sort(900.0) == Sorted(missed=["a@x.io"])
    assert sort(400.0) == Sorted(done=["a@x.io"])


async def test_a_removal_job_sendgrid_will_not_look_up_is_checked_by_search(
    sync_world: World,
) -> None:
    # The spec documents polling jobs of imports, upserts and deletions only, and lists a
    # 400 beside the 404: a list removal's job id may be refused outright.
    w = sync_world
    rows = people(0, 10)
    w.destination({"vip": w.csv("vip", rows)})
    await w.sync()
    job = "GET /v3/marketing/contacts/imports/{id}"
    w.emulator.faults.add(FaultRule(kind="status", template=job, status=400))
    w.csv("vip", rows[:8])

    report = await w.sync()

    assert report.outcome == "success", report.error
    assert (report.applied.removed, report.applied.pending_removals) == (2, 0)
    assert w.members() == emails(rows[:8])
    assert [r.status for r in w.emulator.requests if r.template == job][-1] == 400
