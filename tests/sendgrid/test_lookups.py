"""Looking contacts up, and waiting out 429s, as SendGrid really answers (over real HTTP)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import aiohttp
import pytest

from syncd.clock import LoopClock
from syncd.emulator import ContactSeed, Emulator, EmulatorConfig, FaultRule
from syncd.metrics import Metrics
from syncd.sendgrid import RateGate, SendGridClient, SendGridHttp
from syncd.sendgrid.ratelimit import MAX_RESET_AHEAD
from syncd.sendgrid.searching import Lookup, read_answer
from tests.fixtures_emulator import TEST_API_KEY, TEST_LIST_ID, strict_emulator_config

SEARCH = "POST /v3/marketing/contacts/search/emails"
GET_LIST = "GET /v3/marketing/lists/{id}"

pytestmark = pytest.mark.looptime


@pytest.fixture
def clock() -> LoopClock:
    return LoopClock()


@pytest.fixture
def emulator_config(clock: LoopClock) -> EmulatorConfig:
    return strict_emulator_config(
        wall_clock=clock.now,
        contacts=[
            ContactSeed(email="ann@example.com", list_ids=[TEST_LIST_ID]),
            ContactSeed(email="bob@example.com", list_ids=[TEST_LIST_ID]),
        ],
    )


@pytest.fixture
async def client(emulator: Emulator, clock: LoopClock) -> AsyncIterator[SendGridClient]:
    async with aiohttp.ClientSession() as http:
        transport = SendGridHttp(
            http, emulator.url, lambda: TEST_API_KEY, RateGate(clock), Metrics(), key_hint="env K"
        )
        yield SendGridClient(transport)


async def test_found_contacts_carry_their_id_and_lists(client: SendGridClient) -> None:
    found = await client.lookup(["ann@example.com", "nobody@example.com"])
    assert set(found.found) == {"ann@example.com"}
    assert found.found["ann@example.com"].list_ids == {TEST_LIST_ID}
    assert found.unsearchable == {}


async def test_an_alternate_email_match_is_not_taken_for_the_searched_contact(
    emulator: Emulator, client: SendGridClient
) -> None:
    emulator.state.contacts["bob@example.com"].alternate_emails.append("carl@example.com")
    emulator.state._email_by_alternate["carl@example.com"] = "bob@example.com"

    found = await client.lookup(["carl@example.com"])

    assert found.found == {}  # bob's contact: not carl's to unlist or delete
    assert found.alternates == 1


def test_a_match_without_its_primary_email_is_neither_found_nor_absent() -> None:
    answer = {"ann@example.com": {"contact": {"id": "c1", "list_ids": [TEST_LIST_ID]}}}
    result = Lookup()

    read_answer(answer, ["ann@example.com"], result)

    # Not found (it may be somebody else's contact), and not absent either: a removal is
    # not confirmed by an answer that cannot say whose contact it is.
    assert result.found == {}
    assert "not its primary email" in result.unclear["ann@example.com"]


@pytest.mark.parametrize("given", ["c1,c-victim", "../c1", 7, None])
def test_a_match_whose_contact_id_cannot_be_sent_back_is_neither_found_nor_absent(
    given: object,
) -> None:
    # Sent back in `contact_ids=`, `c1,c-victim` would remove a second contact; taken for
    # absent, the answer would confirm a removal it says nothing of.
    contact = {"id": given, "email": "ann@example.com", "list_ids": [TEST_LIST_ID]}
    result = Lookup()

    read_answer({"ann@example.com": {"contact": contact}}, ["ann@example.com"], result)

    assert result.found == {}
    assert "no usable contact id" in result.unclear["ann@example.com"]


@pytest.mark.parametrize("lists", [None, "l1", {"l1": True}])
def test_a_match_without_the_list_of_its_lists_is_neither_found_nor_absent(
    lists: object,
) -> None:
    # The spec requires `list_ids`; read as "on no list", the answer would confirm a removal.
    contact: dict[str, object] = {"id": "c1", "email": "ann@example.com"}
    if lists is not None:
        contact["list_ids"] = lists
    result = Lookup()

    read_answer({"ann@example.com": {"contact": contact}}, ["ann@example.com"], result)

    assert result.found == {}
    assert "not the lists it is on" in result.unclear["ann@example.com"]


def test_an_answer_about_more_addresses_than_asked_is_not_acted_on() -> None:
    ann = {"contact": {"id": "c1", "email": "ann@example.com", "list_ids": [TEST_LIST_ID]}}
    answer = {"ann@example.com": ann, **{f"x{n}@example.com": {} for n in range(1000)}}
    result = Lookup()

    read_answer(answer, ["ann@example.com", "bob@example.com"], result)

    # Neither found (to remove) nor absent (to confirm a removal): reported.
    assert result.found == {}
    assert set(result.unclear) == {"ann@example.com", "bob@example.com"}


async def test_addresses_search_cannot_take_are_never_sent_and_say_why(
    emulator: Emulator, client: SendGridClient
) -> None:
    long = "x" * 110 + "@example.com"
    found = await client.lookup([long, "ann@example.com"])
    assert "at most 100 characters" in found.unsearchable[long]
    assert set(found.found) == {"ann@example.com"}
    for exchange in emulator.exchanges:
        assert long.encode() not in exchange.body


async def test_a_search_refused_for_one_address_still_finds_the_others(
    emulator: Emulator, client: SendGridClient
) -> None:
    found = await client.lookup(["ann@example.com", "not..valid@example.com", "bob@example.com"])
    assert set(found.found) == {"ann@example.com", "bob@example.com"}
    assert "refused" in found.unsearchable["not..valid@example.com"]
    statuses = [r.status for r in emulator.requests if r.template == SEARCH]
    assert statuses[0] == 400
    assert statuses[-1] == 200


async def test_after_a_429_whose_reset_is_not_ahead_the_next_request_waits_a_growing_pause(
    emulator: Emulator, client: SendGridClient
) -> None:
    # A storm whose X-RateLimit-Reset is "now": a skewed clock, or a past reset.
    emulator.faults.add(FaultRule(kind="rate_limit_storm", template=GET_LIST, times=3, seconds=0))

    await client.get_list(TEST_LIST_ID)

    gets = [r for r in emulator.requests if r.template == GET_LIST]
    assert [r.status for r in gets] == [429, 429, 429, 200]
    gaps = [later.loop_time - earlier.loop_time for earlier, later in itertools.pairwise(gets)]
    assert gaps[0] >= 1.0
    assert gaps[1] >= 2.0
    assert gaps[2] >= 4.0


async def test_a_reset_announced_days_ahead_holds_requests_five_minutes_at_most(
    emulator: Emulator, client: SendGridClient
) -> None:
    # A wrong clock, or milliseconds for seconds: believed, it would hold every request of
    # the key to this endpoint for days.
    emulator.faults.add(
        FaultRule(kind="rate_limit_storm", template=GET_LIST, times=2, seconds=10**9)
    )

    await client.get_list(TEST_LIST_ID)

    gets = [r for r in emulator.requests if r.template == GET_LIST]
    assert [r.status for r in gets] == [429, 429, 200]
    gaps = [later.loop_time - earlier.loop_time for earlier, later in itertools.pairwise(gets)]
    assert all(MAX_RESET_AHEAD <= gap <= MAX_RESET_AHEAD + 1 for gap in gaps), gaps


async def test_a_window_spent_with_a_reset_days_ahead_is_asked_again_after_five_minutes(
    clock: LoopClock,
) -> None:
    gate = RateGate(clock)
    far = clock.now() + 10**9
    gate.observe(GET_LIST, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(far)})

    waited = await gate.acquire(GET_LIST)

    assert MAX_RESET_AHEAD <= waited <= MAX_RESET_AHEAD + 1
