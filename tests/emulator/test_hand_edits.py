"""Hand edits: a marketer's changes in the UI, applied at once, seen by search after the lag."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from syncd.emulator import Emulator, EmulatorConfig
from tests.emulator.helpers import call, upsert
from tests.fixtures_emulator import TEST_LIST_ID, default_emulator_config

OTHER_LIST = "11111111-2222-4333-8444-555555555555"


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    lists = [*default_emulator_config().lists, {"id": OTHER_LIST, "name": "other"}]
    return default_emulator_config(lists=lists)


@pytest.fixture
async def admin(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=emulator.url) as session:
        yield session


@pytest.fixture
async def two_members(client: aiohttp.ClientSession, emulator: Emulator) -> None:
    tier = emulator.state.field_id("loyalty_tier")
    contacts: list[dict[str, Any]] = [
        {"email": "ann@example.com", "first_name": "Ann", "custom_fields": {tier: "gold"}},
        {"email": "bo@example.com"},
    ]
    await upsert(client, contacts, [TEST_LIST_ID])
    await emulator.settle()


async def edit(admin: aiohttp.ClientSession, *operations: dict[str, Any]) -> tuple[int, Any]:
    return await call(admin, "POST", "/_emulator/hand-edits", json=list(operations))


@pytest.mark.usefixtures("two_members")
async def test_unlisting_and_listing_change_memberships_at_once_without_jobs(
    emulator: Emulator, admin: aiohttp.ClientSession
) -> None:
    jobs_before = len(emulator.jobs)
    status, answer = await edit(
        admin,
        {"op": "unlist", "list_id": TEST_LIST_ID, "emails": ["Ann@Example.com"]},
        {"op": "list", "list_id": OTHER_LIST, "emails": ["bo@example.com", "new@example.com"]},
    )
    assert (status, answer) == (200, {"applied": 2})
    assert emulator.state.list_members(TEST_LIST_ID) == {"bo@example.com"}
    assert emulator.state.list_members(OTHER_LIST) == {"bo@example.com", "new@example.com"}
    assert emulator.state.contact("ann@example.com") is not None
    assert len(emulator.jobs) == jobs_before


@pytest.mark.usefixtures("two_members")
async def test_set_fields_sets_and_clears_reserved_and_custom_fields(
    emulator: Emulator, admin: aiohttp.ClientSession
) -> None:
    status, _ = await edit(
        admin,
        {
            "op": "set_fields",
            "emails": ["ann@example.com", "bo@example.com"],
            "fields": {"first_name": "", "city": "Oslo"},
            "custom_fields": {"loyalty_tier": None, "orders": 7},
        },
    )
    assert status == 200
    tier, orders = emulator.state.field_id("loyalty_tier"), emulator.state.field_id("orders")
    for email in ("ann@example.com", "bo@example.com"):
        stored = emulator.state.contact(email) or {}
        assert ("first_name" in stored, stored["city"]) == (False, "Oslo")
        assert stored["custom_fields"] == {orders: 7}
        assert tier not in stored["custom_fields"]


@pytest.mark.usefixtures("two_members")
async def test_delete_and_set_alternate_emails(
    client: aiohttp.ClientSession, emulator: Emulator, admin: aiohttp.ClientSession
) -> None:
    status, _ = await edit(
        admin,
        {"op": "delete", "emails": ["bo@example.com"]},
        {"op": "set_alternate_emails", "email": "ann@example.com", "alternate_emails": ["A@W.io"]},
    )
    assert status == 200
    assert emulator.state.contact("bo@example.com") is None
    assert emulator.state.list_members(TEST_LIST_ID) == {"ann@example.com"}
    status, answer = await call(
        client, "POST", "/v3/marketing/contacts/search/emails", json={"emails": ["a@w.io"]}
    )
    assert status == 200
    assert answer["result"]["a@w.io"]["contact"]["email"] == "ann@example.com"


@pytest.mark.usefixtures("two_members")
async def test_a_batch_applies_in_order_and_later_operations_see_earlier_ones(
    emulator: Emulator, admin: aiohttp.ClientSession
) -> None:
    status, _ = await edit(
        admin,
        {"op": "list", "list_id": OTHER_LIST, "emails": ["cy@example.com"]},
        {"op": "set_fields", "emails": ["cy@example.com"], "fields": {"first_name": "Cy"}},
    )
    assert status == 200
    assert (emulator.state.contact("cy@example.com") or {})["first_name"] == "Cy"


@pytest.mark.usefixtures("two_members")
@pytest.mark.parametrize(
    ("operations", "field", "message"),
    [
        (
            [
                {"op": "unlist", "list_id": TEST_LIST_ID, "emails": ["ann@example.com"]},
                {"op": "delete", "emails": ["bo@example.com", "ghost@example.com"]},
            ],
            "[1].emails[1]",
            "no contact has this email",
        ),
        (
            [
                {"op": "delete", "emails": ["bo@example.com"]},
                {"op": "set_fields", "emails": ["bo@example.com"], "fields": {"city": "x"}},
            ],
            "[1].emails[0]",
            "no contact has this email",
        ),
        (
            [{"op": "list", "list_id": OTHER_LIST, "emails": ["not an email"]}],
            "[0].emails[0]",
            "invalid email",
        ),
        (
            [{"op": "unlist", "list_id": OTHER_LIST.replace("1", "9"), "emails": ["a@b.io"]}],
            "[0].list_id",
            "no list has this id",
        ),
        (
            [{"op": "set_fields", "emails": ["bo@example.com"], "fields": {"email": "x@y.io"}}],
            "[0].fields.email",
            "not a field a hand edit can set",
        ),
        (
            [{"op": "set_fields", "emails": ["bo@example.com"], "fields": {"city": "y" * 61}}],
            "[0].fields.city",
            "longer than 60 characters",
        ),
        (
            [{"op": "set_fields", "emails": ["bo@example.com"], "custom_fields": {"nope": 1}}],
            "[0].custom_fields.nope",
            "no custom field has this name",
        ),
        (
            [{"op": "set_fields", "emails": ["bo@example.com"], "custom_fields": {"orders": "x"}}],
            "[0].custom_fields.orders",
            "expected a Number",
        ),
    ],
)
async def test_a_bad_batch_is_a_400_naming_the_problem_and_changes_nothing(
    emulator: Emulator,
    admin: aiohttp.ClientSession,
    operations: list[dict[str, Any]],
    field: str,
    message: str,
) -> None:
    before = {email: emulator.state.contact(email) for email in emulator.state.contacts}
    status, answer = await edit(admin, *operations)
    assert (status, answer) == (400, {"errors": [{"field": field, "message": message}]})
    assert {email: emulator.state.contact(email) for email in emulator.state.contacts} == before


@pytest.mark.parametrize(
    "body",
    [
        {"op": "delete", "emails": ["a@b.io"]},
        [{"op": "rename", "emails": ["a@b.io"]}],
        [{"op": "delete", "emails": []}],
        [{"op": "delete", "emails": ["a@b.io"], "list_id": TEST_LIST_ID}],
    ],
)
async def test_a_malformed_batch_is_a_400(admin: aiohttp.ClientSession, body: object) -> None:
    status, answer = await call(admin, "POST", "/_emulator/hand-edits", json=body)
    assert status == 400
    assert answer["errors"][0]["message"]


class TestWithASearchLag:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return default_emulator_config(search_lag=30)

    @pytest.mark.looptime
    async def test_search_sees_a_hand_edit_only_after_the_lag(
        self, client: aiohttp.ClientSession, emulator: Emulator, admin: aiohttp.ClientSession
    ) -> None:
        # Set up here, not in a fixture: looptime's fake clock starts with the test itself.
        await upsert(client, [{"email": "ann@example.com"}], [TEST_LIST_ID])
        await emulator.settle()
        await asyncio.sleep(31)
        await edit(admin, {"op": "unlist", "list_id": TEST_LIST_ID, "emails": ["ann@example.com"]})
        assert emulator.state.list_members(TEST_LIST_ID) == set()
        body = {"emails": ["ann@example.com"]}
        search = "/v3/marketing/contacts/search/emails"
        _, answer = await call(client, "POST", search, json=body)
        assert answer["result"]["ann@example.com"]["contact"]["list_ids"] == [TEST_LIST_ID]
        await asyncio.sleep(31)
        _, answer = await call(client, "POST", search, json=body)
        assert answer["result"]["ann@example.com"]["contact"]["list_ids"] == []
