"""Erasure against the strict emulator over HTTP, in this process: the ledger forgets,
SendGrid deletes, and runs never send the address again until undone."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from syncd.clock import SYSTEM_CLOCK
from syncd.emulator import EmulatorConfig, ListSeed
from syncd.ledger import open_ledger
from syncd.loading import load_directory
from syncd.reconciling import Reconciler, RunProgress
from syncd.reconciling.forgetting import ForgetRefused, ForgetReport, ForgetRequest, Forgetting
from tests.fixtures_emulator import TEST_LIST_ID, TEST_LIST_NAME, strict_emulator_config
from tests.reconciling.world import World, emails, people

UPSERT = "PUT /v3/marketing/contacts"
SEARCH = "POST /v3/marketing/contacts/search/emails"
ANN = "Person.2@Example.com"  # as the segment writes it
ANN_KEY = "person.2@example.com"
OTHER_LIST = "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f"
OTHERS = {"apiKey": {"env": "SENDGRID_API_KEY"}, "listId": OTHER_LIST}


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    """The strict account, with a second list for a second destination."""
    return strict_emulator_config(
        lists=[
            ListSeed(id=TEST_LIST_ID, name=TEST_LIST_NAME),
            ListSeed(id=OTHER_LIST, name="others"),
        ]
    )


async def forget(w: World, **request: Any) -> ForgetReport:
    catalog = load_directory(w.destinations, w.settings.allowlists())
    async with aiohttp.ClientSession() as http:
        reconciler = Reconciler(w.ledger, http, w.settings, w.metrics)
        forgetting = Forgetting(w.ledger, reconciler)
        asked = ForgetRequest(**{"address": ANN, **request})
        return await forgetting.carry_out(asked, catalog.destinations, stopping=lambda: False)


def stopped_once_submitted() -> dict[str, Any]:
    """Run options that stop a run as soon as its first batch is submitted: its job is left
    in flight, as a forget between two runs can find it."""
    live = RunProgress(SYSTEM_CLOCK)  # counts the contacts of submitted upserts
    return {"live": live, "stopping": lambda: live.sent > 0}


def acked(w: World, destination: str = "members") -> int:
    with w.ledger.session(destination) as s:
        return s.acked_count()


def upserted(w: World, address: str) -> int:
    """Upserts whose body carried the address."""
    needle = address.lower().encode()
    return sum(1 for x in w.emulator.exchanges if x.template == UPSERT and needle in x.body.lower())


async def test_a_forgotten_address_is_gone_from_the_ledger_and_never_sent_again(
    sync_world: World,
) -> None:
    w = sync_world
    rows = people(0, 5)
    w.destination({"vip": w.csv("vip", rows)})
    await w.sync()

    report = await forget(w)

    (members,) = report.erased
    assert (members.destination, members.acknowledged) == ("members", 1)
    assert report.changed
    assert report.deletions == []
    assert acked(w) == 4
    rows[2]["FirstName"] = "Changed"  # its row changes, and is still not sent
    rows[3]["FirstName"] = "Changed too"
    w.csv("vip", rows)
    sent_before = upserted(w, ANN_KEY)
    again = await w.sync()
    assert again.outcome == "success", again.error
    assert again.counts()["forgotten"] == 1
    assert again.counts()["upserted"] == 1
    assert again.counts()["removed"] == 0  # forgotten is not "left": it stays on the list
    assert upserted(w, ANN_KEY) == sent_before
    assert ANN_KEY in w.members()


async def test_an_unchanged_source_with_a_forgotten_row_is_still_only_verified(
    sync_world: World,
) -> None:
    w = sync_world
    w.destination({"vip": w.csv("vip", people(0, 5))})
    await w.sync()
    await forget(w)
    first = await w.sync()
    assert (first.read, first.counts()["forgotten"]) == ("verified", 1)
    assert first.counts()["profiles"] == 4
    second = await w.sync()
    assert (second.read, second.counts()["forgotten"]) == ("known", 1)


async def test_with_the_flag_the_contact_is_deleted_from_sendgrid(sync_world: World) -> None:
    w = sync_world
    w.destination({"vip": w.csv("vip", people(0, 5))})
    await w.sync()
    searches_before = w.emulator.count_requests(template=SEARCH)

    report = await forget(w, delete_in_sendgrid=True)

    (deletion,) = report.deletions
    assert (deletion.destination, deletion.outcome) == ("members", "deleted"), deletion
    assert w.emulator.state.contact(ANN_KEY) is None
    assert w.members() == emails(people(0, 5)) - {ANN_KEY}
    assert w.emulator.count_requests(template=SEARCH) > searches_before  # confirmed by search
    with w.ledger.session("members") as s:
        assert s.erasures() == []  # the address left the ledger with the confirmation
    again = await w.sync()
    assert again.counts()["forgotten"] == 1
    assert w.emulator.state.contact(ANN_KEY) is None


async def test_undo_lets_the_next_run_send_the_address_again(sync_world: World) -> None:
    w = sync_world
    w.destination({"vip": w.csv("vip", people(0, 5))})
    await w.sync()
    await forget(w, delete_in_sendgrid=True)
    await w.sync()
    assert w.emulator.state.contact(ANN_KEY) is None

    report = await forget(w, undo=True)

    assert report.changed
    assert report.still_forgotten == []
    again = await w.sync()
    assert again.counts()["forgotten"] == 0
    assert again.counts()["new"] == 1
    assert w.emulator.state.contact(ANN_KEY) is not None
    assert (await forget(w, undo=True)).changed is False  # nothing left to undo


async def test_forgotten_for_one_destination_is_still_sent_by_the_others(
    sync_world: World,
) -> None:
    w = sync_world
    w.destination({"vip": w.csv("vip", people(0, 3))}, name="members")
    w.destination({"vip": w.csv("vip", people(0, 3))}, name="others", sendgrid=OTHERS)
    await w.sync("members")
    await w.sync("others")

    report = await forget(w, destination="members")

    assert [e.destination for e in report.erased] == ["members"]
    assert (await w.sync("members")).counts()["forgotten"] == 1
    assert (await w.sync("others")).counts()["forgotten"] == 0
    assert acked(w, "others") == 3
    undone = await forget(w, destination="others", undo=True)
    assert undone.changed is False


async def test_a_job_in_flight_at_the_forget_finishes_without_recording_the_address(
    sync_world: World,
) -> None:
    w = sync_world
    w.destination({"vip": w.csv("vip", people(0, 5))})
    interrupted = await w.sync(**stopped_once_submitted())
    assert interrupted.outcome == "temporary"  # stopped while its job was in flight

    report = await forget(w)

    (members,) = report.erased
    assert (members.acknowledged, members.in_flight) == (0, 1)
    finished = await w.sync()
    assert finished.outcome == "success", finished.error
    assert acked(w) == 4
    assert finished.counts()["forgotten"] == 1
    assert upserted(w, ANN_KEY) == 1  # the job SendGrid had: nothing more


async def test_a_request_that_cannot_be_carried_out_changes_nothing(sync_world: World) -> None:
    w = sync_world
    w.destination({"vip": w.csv("vip", people(0, 3))}, name="members")
    w.destination({"vip": w.csv("vip", people(0, 3))}, name="others", sendgrid=OTHERS)
    await w.sync("members")
    await w.sync("others")
    for request, status in (
        ({"address": "not-an-address"}, 400),
        ({"destination": "nobody"}, 404),
        ({"destination": "members", "delete_in_sendgrid": True}, 409),
        ({"undo": True, "delete_in_sendgrid": True}, 400),
    ):
        with pytest.raises(ForgetRefused) as refused:
            await forget(w, **request)
        assert refused.value.status == status, (request, refused.value.message)
    assert (acked(w, "members"), acked(w, "others")) == (3, 3)
    assert w.ledger.scopes(w.ledger.digest(ANN_KEY)) == []


async def test_an_erasure_waits_for_an_upsert_in_flight_in_another_destination(
    sync_world: World,
) -> None:
    w = sync_world
    w.destination({"vip": w.csv("vip", people(0, 3))}, name="members")
    w.destination({"vip": w.csv("vip", people(0, 3))}, name="others", sendgrid=OTHERS)
    await w.sync("members")
    await w.sync("others", **stopped_once_submitted())

    report = await forget(w, delete_in_sendgrid=True)

    (deletion,) = report.deletions  # one account: carried out by the first destination
    assert (deletion.destination, deletion.outcome) == ("members", "waiting"), deletion
    assert w.emulator.state.contact(ANN_KEY) is not None
    others = await w.sync("others")  # its job ends; the address is dropped, not recorded
    assert others.outcome == "success", others.error
    assert acked(w, "others") == 2
    members = await w.sync("members")  # its run carries the erasure out
    assert members.outcome == "success", members.error
    assert w.emulator.state.contact(ANN_KEY) is None
    with w.ledger.session("members") as s:
        assert s.pending_erasures() == 0


async def test_a_plan_counts_forgotten_rows_and_would_not_send_them(sync_world: World) -> None:
    w = sync_world
    w.destination({"vip": w.csv("vip", people(0, 5))})
    await w.sync()
    await forget(w)
    plan = await w.sync(dry_run=True)
    assert plan.counts()["forgotten"] == 1
    assert plan.preview is not None
    assert (plan.preview.adds, plan.preview.updates) == (0, 0)


async def test_an_erasure_search_does_not_find_is_looked_for_then_given_up(
    sync_world: World,
) -> None:
    w = sync_world
    w.destination({"vip": w.csv("vip", people(0, 5))})
    await w.sync()
    deleted_by_hand = w.emulator.state.contact(ANN_KEY)
    assert deleted_by_hand is not None
    w.emulator.state.delete_contacts([str(deleted_by_hand["id"])])
    other = w.emulator.state.contacts["person.0@example.com"]  # ann is only its alternate
    other.alternate_emails.append(ANN_KEY)
    w.emulator.state._email_by_alternate[ANN_KEY] = "person.0@example.com"

    report = await forget(w, delete_in_sendgrid=True)

    (deletion,) = report.deletions
    assert deletion.outcome == "not found yet", deletion
    assert w.emulator.state.contact("person.0@example.com") is not None  # not somebody else
    pending = await w.sync()
    assert pending.applied.pending_erasures == 1
    assert pending.requeue_after is not None  # looked for again soon
    assert pending.read == "staged"  # open work takes the full path
    w.settings = w.settings.model_copy(update={"removal_window": 0.001})
    given_up = await w.sync()
    assert given_up.applied.pending_erasures == 0
    (why,) = given_up.applied.erasures_given_up.values()
    assert why.startswith("SendGrid's search has not found the contact")
    with w.ledger.session("members") as s:
        assert s.erasures() == []
    assert w.emulator.state.contact("person.0@example.com") is not None


@pytest.mark.postgres
async def test_on_the_shared_ledger_too(sync_world: World, postgres_dsn: str) -> None:
    w = sync_world
    w.ledger.close()
    w.ledger = open_ledger(postgres_dsn)
    w.destination({"vip": w.csv("vip", people(0, 5))})
    interrupted = await w.sync(**stopped_once_submitted())  # a job left in flight
    assert interrupted.outcome == "temporary"

    report = await forget(w, delete_in_sendgrid=True)

    (members,) = report.erased
    assert members.in_flight == 1
    (deletion,) = report.deletions
    assert deletion.outcome == "deleted", deletion  # after the job in flight was settled
    assert w.emulator.state.contact(ANN_KEY) is None
    again = await w.sync()
    assert (again.outcome, again.counts()["forgotten"]) == ("success", 1)
    assert acked(w) == 4
    assert w.emulator.state.contact(ANN_KEY) is None
