"""Upserts merge into contacts keyed by lower-cased email; lists are only ever added."""

from __future__ import annotations

import aiohttp

from syncd.emulator import Emulator
from tests.emulator.helpers import call, settled_job, upsert
from tests.fixtures_emulator import TEST_LIST_ID


async def test_an_upsert_is_accepted_as_a_job_and_applied_later(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    job_id = await upsert(client, [{"email": "ann@example.com", "first_name": "Ann"}])
    finished = await settled_job(client, emulator, job_id)
    assert finished["status"] == "completed"
    assert finished["job_type"] == "upsert"
    assert finished["results"] == {
        "requested_count": 1,
        "created_count": 1,
        "updated_count": 0,
        "deleted_count": 0,
        "errored_count": 0,
    }
    assert emulator.state.contact("ann@example.com") is not None


async def test_emails_are_stored_lower_cased_and_match_case_insensitively(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    await upsert(client, [{"email": "  Ann.Lee@Example.COM "}])
    second = await upsert(client, [{"email": "ann.lee@example.com", "last_name": "Lee"}])
    finished = await settled_job(client, emulator, second)
    assert finished["results"]["updated_count"] == 1
    assert list(emulator.state.contacts) == ["ann.lee@example.com"]


async def test_omitted_fields_stay_and_empty_strings_clear(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    tier, orders = emulator.state.field_id("loyalty_tier"), emulator.state.field_id("orders")
    await upsert(
        client,
        [
            {
                "email": "bo@example.com",
                "first_name": "Bo",
                "city": "Oslo",
                "custom_fields": {tier: "gold", orders: 3},
            }
        ],
    )
    await upsert(
        client,
        [{"email": "bo@example.com", "city": "", "custom_fields": {tier: "", orders: "4"}}],
    )
    await emulator.settle()
    stored = emulator.state.contact("bo@example.com")
    assert stored is not None
    assert stored["first_name"] == "Bo"
    assert "city" not in stored
    assert stored["custom_fields"] == {orders: 4}


async def test_upserts_add_list_memberships_and_never_remove_them(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    await upsert(client, [{"email": "cy@example.com"}], list_ids=[TEST_LIST_ID])
    await upsert(client, [{"email": "cy@example.com", "first_name": "Cy"}], list_ids=[])
    await upsert(client, [{"email": "di@example.com"}])
    await emulator.settle()
    assert emulator.state.list_members(TEST_LIST_ID) == {"cy@example.com"}


async def test_an_upsert_naming_an_unknown_list_is_refused_whole(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    status, answer = await call(
        client,
        "PUT",
        "/v3/marketing/contacts",
        json={"list_ids": [unknown], "contacts": [{"email": "ed@example.com"}]},
    )
    assert status == 404
    assert answer["errors"][0]["field"] == "list_ids"
    assert emulator.jobs == {}


async def test_search_by_emails_finds_primary_and_alternate_addresses(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    tier = emulator.state.field_id("loyalty_tier")
    await upsert(
        client,
        [
            {
                "email": "fay@example.com",
                "alternate_emails": ["Fay@Work.example"],
                "custom_fields": {tier: "silver"},
            }
        ],
        list_ids=[TEST_LIST_ID],
    )
    await emulator.settle()
    status, answer = await call(
        client,
        "POST",
        "/v3/marketing/contacts/search/emails",
        json={"emails": ["FAY@example.com", "fay@work.example", "gil@example.com"]},
    )
    assert status == 200
    result = answer["result"]
    assert result["gil@example.com"] == {"error": "contact not found"}
    found = result["fay@example.com"]["contact"]
    assert result["fay@work.example"]["contact"]["id"] == found["id"]
    assert found["list_ids"] == [TEST_LIST_ID]
    assert found["custom_fields"] == {"loyalty_tier": "silver"}
    assert found["_metadata"]["self"] == f"{emulator.url}/v3/marketing/contacts/{found['id']}"


async def test_search_by_emails_with_no_match_is_a_404(client: aiohttp.ClientSession) -> None:
    status, answer = await call(
        client, "POST", "/v3/marketing/contacts/search/emails", json={"emails": ["x@example.com"]}
    )
    assert status == 404
    assert answer == {"errors": [{"field": None, "message": "No contacts found"}]}


async def test_a_contact_can_be_read_by_id(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    await upsert(client, [{"email": "hal@example.com"}])
    await emulator.settle()
    stored = emulator.state.contact("hal@example.com")
    assert stored is not None
    status, answer = await call(client, "GET", f"/v3/marketing/contacts/{stored['id']}")
    assert (status, answer["email"]) == (200, "hal@example.com")
    status, _ = await call(client, "GET", "/v3/marketing/contacts/no-such-id")
    assert status == 404


async def test_the_contact_count_follows_applied_jobs(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    await upsert(client, [{"email": f"n{i}@example.com"} for i in range(3)])
    await emulator.settle()
    status, answer = await call(client, "GET", "/v3/marketing/contacts/count")
    assert (status, answer) == (200, {"contact_count": 3, "billable_count": 3})
