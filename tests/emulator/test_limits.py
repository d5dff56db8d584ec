"""Request limits: refused whole, in SendGrid's `{"errors": [...]}` shape."""

from __future__ import annotations

import io
from typing import Any

import aiohttp
import orjson
import pytest

from syncd.emulator import Emulator
from tests.emulator.helpers import call, settled_job, upsert


async def test_more_than_30000_contacts_in_one_upsert_is_a_400(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    contacts = [{"email": f"c{i}@example.com"} for i in range(30_001)]
    status, answer = await call(
        client, "PUT", "/v3/marketing/contacts", json={"contacts": contacts}
    )
    assert status == 400
    assert answer["errors"][0]["field"] == "contacts"
    assert emulator.jobs == {}


async def test_exactly_30000_contacts_are_accepted(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    job_id = await upsert(client, [{"email": f"c{i}@example.com"} for i in range(30_000)])
    finished = await settled_job(client, emulator, job_id)
    assert finished["results"]["created_count"] == 30_000


async def test_an_upsert_body_over_6000000_bytes_is_a_413(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    body = orjson.dumps(
        {
            "contacts": [
                {"email": f"big{i}@example.com", "postal_code": "9" * 1000} for i in range(6000)
            ]
        }
    )
    assert len(body) > 6_000_000
    status, answer = await call(
        client,
        "PUT",
        "/v3/marketing/contacts",
        data=io.BytesIO(body),  # aiohttp warns about large raw bytes bodies
        headers={"Content-Type": "application/json"},
    )
    assert status == 413
    assert answer == {
        "errors": [
            {
                "field": None,
                "message": f"request body too large: {len(body)} bytes, the limit is 6000000",
            }
        ]
    }
    assert emulator.jobs == {}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"contacts": []},
        {"contacts": "ann@example.com"},
        {"contacts": [{"email": 42}]},
        {"contacts": [{"first_name": "no identifier"}]},
        {"contacts": [{"email": "ann@example.com", "firstName": "Ann"}]},
        {"contacts": [{"email": "ann@example.com", "custom_fields": ["e1_T"]}]},
        {"contacts": [{"email": "ann@example.com", "custom_fields": {"e1_T": None}}]},
        {"contacts": [{"email": "ann@example.com"}], "list_ids": "not-a-list"},
    ],
)
async def test_a_malformed_upsert_is_a_400(
    client: aiohttp.ClientSession, emulator: Emulator, body: dict[str, Any]
) -> None:
    status, answer = await call(client, "PUT", "/v3/marketing/contacts", json=body)
    assert status == 400
    assert answer["errors"][0]["message"]
    assert emulator.jobs == {}


async def test_a_body_that_is_not_json_is_a_400(client: aiohttp.ClientSession) -> None:
    status, answer = await call(client, "PUT", "/v3/marketing/contacts", data=b"{nope")
    assert status == 400
    assert answer["errors"][0]["message"] == "the request body is not valid JSON"


async def test_searching_more_than_100_emails_is_a_400(client: aiohttp.ClientSession) -> None:
    emails = [f"s{i}@example.com" for i in range(101)]
    status, answer = await call(
        client, "POST", "/v3/marketing/contacts/search/emails", json={"emails": emails}
    )
    assert status == 400
    assert answer["errors"][0]["field"] == "emails"


async def test_searching_an_invalid_email_is_a_400(client: aiohttp.ClientSession) -> None:
    status, answer = await call(
        client,
        "POST",
        "/v3/marketing/contacts/search/emails",
        json={"emails": ["ok@example.com", "not-an-email"]},
    )
    assert status == 400
    assert answer["errors"][0]["field"] == "emails[1]"


async def test_an_email_of_254_characters_is_searchable_despite_the_specs_100(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    email = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".com"
    assert len(email) == 254
    await upsert(client, [{"email": email}])
    await emulator.settle()
    status, answer = await call(
        client, "POST", "/v3/marketing/contacts/search/emails", json={"emails": [email]}
    )
    assert status == 200
    assert email in answer["result"]
