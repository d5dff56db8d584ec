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
