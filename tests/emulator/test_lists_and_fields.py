"""Lists and custom field definitions."""

from __future__ import annotations

import aiohttp
import pytest

from syncd.emulator import Emulator
from tests.emulator.helpers import call, upsert
from tests.fixtures_emulator import TEST_LIST_ID, TEST_LIST_NAME


async def test_a_seeded_list_is_served_with_its_count(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    await upsert(client, [{"email": "l1@example.com"}], list_ids=[TEST_LIST_ID])
    await emulator.settle()
    status, answer = await call(client, "GET", f"/v3/marketing/lists/{TEST_LIST_ID}")
    assert status == 200
    assert answer == {
        "id": TEST_LIST_ID,
        "name": TEST_LIST_NAME,
        "contact_count": 1,
        "_metadata": {"self": f"{emulator.url}/v3/marketing/lists/{TEST_LIST_ID}"},
    }
    status, answer = await call(client, "GET", f"/v3/marketing/lists/{TEST_LIST_ID}/contacts/count")
    assert (status, answer) == (200, {"contact_count": 1, "billable_count": 1})


async def test_an_unknown_list_is_a_404(client: aiohttp.ClientSession) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    assert (await call(client, "GET", f"/v3/marketing/lists/{unknown}"))[0] == 404
    assert (await call(client, "GET", f"/v3/marketing/lists/{unknown}/contacts/count"))[0] == 404


async def test_created_lists_get_uuids_and_are_listed_in_pages(
    client: aiohttp.ClientSession,
) -> None:
    for name in ("two", "three"):
        status, created = await call(client, "POST", "/v3/marketing/lists", json={"name": name})
        assert status == 201
        assert len(created["id"]) == 36
        assert created["contact_count"] == 0
    status, page = await call(client, "GET", "/v3/marketing/lists", params={"page_size": "2"})
    assert status == 200
    assert [found["name"] for found in page["result"]] == [TEST_LIST_NAME, "two"]
    async with client.get(page["_metadata"]["next"]) as response:
        last = await response.json()
    assert [found["name"] for found in last["result"]] == ["three"]
    assert "next" not in last["_metadata"]


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 101}, {"name": TEST_LIST_NAME}])
async def test_an_invalid_or_duplicate_list_name_is_a_400(
    client: aiohttp.ClientSession, body: dict[str, str]
) -> None:
    status, answer = await call(client, "POST", "/v3/marketing/lists", json=body)
    assert status == 400
    assert answer["errors"][0]["field"] == "name"


async def test_a_page_size_out_of_range_is_a_400(client: aiohttp.ClientSession) -> None:
    status, _ = await call(client, "GET", "/v3/marketing/lists", params={"page_size": "1001"})
    assert status == 400


async def test_field_definitions_list_custom_and_reserved_fields(
    client: aiohttp.ClientSession,
) -> None:
    status, answer = await call(client, "GET", "/v3/marketing/field_definitions")
    assert status == 200
    assert answer["custom_fields"] == [
        {"id": "e1_T", "name": "loyalty_tier", "field_type": "Text"},
        {"id": "e2_N", "name": "orders", "field_type": "Number"},
    ]
    reserved = {field["name"]: field for field in answer["reserved_fields"]}
    assert reserved["email"] == {"id": "_rf2_T", "name": "email", "field_type": "Text"}
    assert reserved["created_at"]["read_only"] is True


async def test_a_created_custom_field_gets_the_next_typed_id(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    status, created = await call(
        client,
        "POST",
        "/v3/marketing/field_definitions",
        json={"name": "signup_date", "field_type": "Date"},
    )
    assert status == 200
    assert (created["id"], created["field_type"]) == ("e3_D", "Date")
    assert emulator.state.field_id("signup_date") == "e3_D"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "orders", "field_type": "Text"},
        {"name": "ORDERS", "field_type": "Number"},
        {"name": "first_name", "field_type": "Text"},
        {"name": "9lives", "field_type": "Text"},
        {"name": "has space", "field_type": "Text"},
        {"name": "ok", "field_type": "Boolean"},
        {"name": "ok"},
    ],
)
async def test_an_invalid_custom_field_is_a_400(
    client: aiohttp.ClientSession, body: dict[str, str]
) -> None:
    status, answer = await call(client, "POST", "/v3/marketing/field_definitions", json=body)
    assert status == 400
    assert answer["errors"][0]["message"]


async def test_deleting_a_list_keeps_its_contacts_and_later_is_a_404(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    await upsert(client, [{"email": "keep@example.com"}], list_ids=[TEST_LIST_ID])
    await emulator.settle()

    status, answer = await call(client, "DELETE", f"/v3/marketing/lists/{TEST_LIST_ID}")

    assert (status, answer) == (204, None)
    assert TEST_LIST_ID not in emulator.state.lists
    stored = emulator.state.contact("keep@example.com")
    assert stored is not None
    assert stored["list_ids"] == []
    status, answer = await call(client, "DELETE", f"/v3/marketing/lists/{TEST_LIST_ID}")
    assert status == 404
    assert answer["errors"][0]["message"]


async def test_deleting_a_list_with_its_contacts_starts_a_job_deleting_only_its_members(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    await upsert(client, [{"email": "member@example.com"}], list_ids=[TEST_LIST_ID])
    await upsert(client, [{"email": "bystander@example.com"}])
    await emulator.settle()

    status, answer = await call(
        client,
        "DELETE",
        f"/v3/marketing/lists/{TEST_LIST_ID}",
        params={"delete_contacts": "true"},
    )
    await emulator.settle()

    assert status == 200
    assert emulator.jobs[answer["job_id"]].counts["deleted_count"] == 1
    assert set(emulator.state.contacts) == {"bystander@example.com"}


async def test_deleting_a_list_with_a_bad_flag_is_a_400_deleting_nothing(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    path = f"/v3/marketing/lists/{TEST_LIST_ID}"
    status, answer = await call(client, "DELETE", path, params={"delete_contacts": "yes"})
    assert status == 400
    assert answer["errors"][0]["field"] == "delete_contacts"
    assert TEST_LIST_ID in emulator.state.lists


async def test_deleting_a_custom_field_drops_it_and_the_values_contacts_held(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    contact = {"email": "tier@example.com", "custom_fields": {"e1_T": "gold", "e2_N": 3}}
    await upsert(client, [contact], list_ids=[TEST_LIST_ID])
    await emulator.settle()

    status, answer = await call(client, "DELETE", "/v3/marketing/field_definitions/e1_T")

    assert (status, answer) == (204, None)
    assert list(emulator.state.custom_fields) == ["e2_N"]
    stored = emulator.state.contact("tier@example.com")
    assert stored is not None
    assert stored["custom_fields"] == {"e2_N": 3}


@pytest.mark.parametrize("field_id", ["e9_T", "_rf0_T"])
async def test_deleting_an_unknown_or_reserved_field_is_a_404(
    client: aiohttp.ClientSession, emulator: Emulator, field_id: str
) -> None:
    status, answer = await call(client, "DELETE", f"/v3/marketing/field_definitions/{field_id}")
    assert status == 404
    assert answer["errors"][0]["message"] == "custom field not found"
    assert len(emulator.state.custom_fields) == 2
