"""Search by email: SendGrid's limits refuse the whole call, and results lag behind changes."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from syncd.emulator import Emulator, EmulatorConfig
from tests.emulator.helpers import call, upsert
from tests.fixtures_emulator import TEST_LIST_ID, default_emulator_config

SEARCH = "/v3/marketing/contacts/search/emails"
EMAIL_100 = "a" * 64 + "@" + "b" * 31 + ".com"
EMAIL_101 = "a" * 64 + "@" + "b" * 32 + ".com"
LAG = 30.0


async def search(client: aiohttp.ClientSession, *emails: str) -> tuple[int, Any]:
    return await call(client, "POST", SEARCH, json={"emails": list(emails)})


async def found(client: aiohttp.ClientSession, email: str) -> dict[str, Any] | None:
    """The contact a search for `email` finds, or None."""
    status, answer = await search(client, email)
    if status == 404:
        return None
    assert status == 200, answer
    contact: dict[str, Any] | None = answer["result"][email].get("contact")
    return contact


class TestStrictLimits:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return default_emulator_config(profile="strict", search_lag=0)

    @pytest.mark.parametrize("bad", [EMAIL_101, "not an email"])
    async def test_one_long_or_invalid_email_refuses_the_whole_search_naming_none(
        self, client: aiohttp.ClientSession, bad: str
    ) -> None:
        await upsert(client, [{"email": "ann@example.com"}])
        status, answer = await search(client, "ann@example.com", bad)
        assert status == 400
        assert [error["field"] for error in answer["errors"]] == [None]
        assert bad not in answer["errors"][0]["message"]

    async def test_an_email_of_100_characters_is_searched(
        self, client: aiohttp.ClientSession, emulator: Emulator
    ) -> None:
        await upsert(client, [{"email": EMAIL_100}])
        await emulator.settle()
        assert (await found(client, EMAIL_100) or {}).get("email") == EMAIL_100


class TestNamedSearchErrors:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return default_emulator_config(search_max_email_length=100)

    async def test_the_error_names_the_email_by_its_index(
        self, client: aiohttp.ClientSession
    ) -> None:
        status, answer = await search(client, "ann@example.com", EMAIL_101)
        assert status == 400
        assert answer["errors"] == [
            {"field": "emails[1]", "message": "an email is longer than 100 characters"}
        ]


class TestWithALag:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return default_emulator_config(search_lag=LAG)

    @pytest.mark.looptime
    async def test_a_new_contact_is_found_only_once_the_lag_has_passed(
        self, client: aiohttp.ClientSession, emulator: Emulator
    ) -> None:
        await upsert(client, [{"email": "new@example.com"}], list_ids=[TEST_LIST_ID])
        await emulator.settle()
        stored = emulator.state.contact("new@example.com")
        assert stored is not None
        assert (await call(client, "GET", f"/v3/marketing/contacts/{stored['id']}"))[0] == 200
        _, listed = await call(client, "GET", f"/v3/marketing/lists/{TEST_LIST_ID}")
        assert listed["contact_count"] == 1
        assert await search(client, "new@example.com") == (
            404,
            {"errors": [{"field": None, "message": "No contacts found"}]},
        )
        await asyncio.sleep(LAG - 1)
        assert await found(client, "new@example.com") is None
        await asyncio.sleep(2)
        contact = await found(client, "new@example.com")
        assert contact is not None
        assert contact["list_ids"] == [TEST_LIST_ID]

    @pytest.mark.looptime
    async def test_updates_unlisting_and_deletion_show_only_after_the_lag(
        self, client: aiohttp.ClientSession, emulator: Emulator
    ) -> None:
        await upsert(client, [{"email": "bo@example.com", "first_name": "Bo"}], [TEST_LIST_ID])
        await emulator.settle()
        await asyncio.sleep(LAG + 1)
        before = await found(client, "bo@example.com")
        assert before is not None
        assert (before["first_name"], before["list_ids"]) == ("Bo", [TEST_LIST_ID])

        await upsert(client, [{"email": "bo@example.com", "first_name": "Bob"}])
        await emulator.settle()
        await asyncio.sleep(10)
        status, _ = await call(
            client,
            "DELETE",
            f"/v3/marketing/lists/{TEST_LIST_ID}/contacts",
            params={"contact_ids": before["id"]},
        )
        assert status == 202
        await emulator.settle()
        assert emulator.state.list_members(TEST_LIST_ID) == set()
        assert await found(client, "bo@example.com") == before
        await asyncio.sleep(LAG - 9)
        renamed = await found(client, "bo@example.com")
        assert renamed is not None
        assert (renamed["first_name"], renamed["list_ids"]) == ("Bob", [TEST_LIST_ID])
        await asyncio.sleep(10)
        unlisted = await found(client, "bo@example.com")
        assert unlisted is not None
        assert (unlisted["first_name"], unlisted["list_ids"]) == ("Bob", [])

        await call(client, "DELETE", "/v3/marketing/contacts", params={"ids": before["id"]})
        await emulator.settle()
        assert emulator.state.contact("bo@example.com") is None
        assert await found(client, "bo@example.com") == unlisted
        await asyncio.sleep(LAG + 1)
        assert await found(client, "bo@example.com") is None

    @pytest.mark.looptime
    async def test_a_search_by_an_alternate_email_finds_its_owner_after_the_lag(
        self, client: aiohttp.ClientSession, emulator: Emulator
    ) -> None:
        await upsert(client, [{"email": "cy@example.com"}], [TEST_LIST_ID])
        await emulator.settle()
        await asyncio.sleep(LAG + 1)
        await upsert(client, [{"email": "cy@example.com", "alternate_emails": ["cy@work.example"]}])
        await emulator.settle()
        assert await found(client, "cy@work.example") is None
        assert (await found(client, "cy@example.com") or {})["alternate_emails"] == []
        await asyncio.sleep(LAG + 1)
        owner = await found(client, "cy@work.example")
        assert owner is not None
        assert (owner["email"], owner["alternate_emails"]) == (
            "cy@example.com",
            ["cy@work.example"],
        )
        assert owner["list_ids"] == [TEST_LIST_ID]

    @pytest.mark.looptime
    async def test_a_deleted_list_and_field_leave_search_only_after_the_lag(
        self, client: aiohttp.ClientSession, emulator: Emulator
    ) -> None:
        contact = {"email": "fi@example.com", "custom_fields": {"e1_T": "gold"}}
        await upsert(client, [contact], [TEST_LIST_ID])
        await emulator.settle()
        await asyncio.sleep(LAG + 1)
        await call(client, "DELETE", f"/v3/marketing/lists/{TEST_LIST_ID}")
        await call(client, "DELETE", "/v3/marketing/field_definitions/e1_T")
        before = await found(client, "fi@example.com")
        assert before is not None
        assert before["list_ids"] == [TEST_LIST_ID]
        await asyncio.sleep(LAG + 1)
        after = await found(client, "fi@example.com")
        assert after is not None
        assert (after["list_ids"], after["custom_fields"]) == ([], {})

    @pytest.mark.looptime
    async def test_removing_the_lag_at_run_time_shows_every_change_at_once(
        self, client: aiohttp.ClientSession, emulator: Emulator
    ) -> None:
        await upsert(client, [{"email": "di@example.com"}])
        await emulator.settle()
        assert await found(client, "di@example.com") is None
        async with aiohttp.ClientSession(base_url=emulator.url) as admin:
            await call(admin, "PATCH", "/_emulator/behaviour", json={"search_lag": 0})
        assert await found(client, "di@example.com") is not None


class TestTheStrictProfile:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return default_emulator_config(profile="strict")

    @pytest.mark.looptime
    async def test_search_lags_two_seconds_behind_by_default(
        self, client: aiohttp.ClientSession, emulator: Emulator
    ) -> None:
        await upsert(client, [{"email": "ed@example.com"}])
        await emulator.settle()
        assert await found(client, "ed@example.com") is None
        await asyncio.sleep(2.5)
        assert await found(client, "ed@example.com") is not None


class TestSeededContacts:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        seeded = {"email": " Old@Example.com", "list_ids": [TEST_LIST_ID]}
        return default_emulator_config(search_lag=LAG, contacts=[seeded])

    @pytest.mark.looptime
    async def test_seeded_contacts_were_there_all_along_so_search_finds_them_at_once(
        self, client: aiohttp.ClientSession, emulator: Emulator
    ) -> None:
        seeded = await found(client, "old@example.com")
        assert seeded is not None
        assert (seeded["email"], seeded["list_ids"]) == ("old@example.com", [TEST_LIST_ID])
