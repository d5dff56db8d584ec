"""A tour of every endpoint the emulator serves, on happy and error paths, for the contract
tests: each call says what status it expects and whether its request is valid per the spec."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from syncd.emulator import Emulator, FaultRule
from syncd.emulator.recording import Exchange
from tests.fixtures_emulator import TEST_API_KEY, TEST_LIST_ID

READ_ONLY_KEY = "SG.tour-read-only"
UNKNOWN_LIST = "00000000-0000-4000-8000-000000000000"
# 254 characters: valid for a contact, too long for the spec's search/emails (100), which
# the kind profile searches all the same.
LONG_EMAIL = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".com"


@dataclass(frozen=True)
class Visit:
    exchange: Exchange
    request_valid: bool  # per the vendored spec as corrected by deviations.py


class Tour:
    def __init__(self, emulator: Emulator, session: aiohttp.ClientSession) -> None:
        self.emulator = emulator
        self.session = session
        self.visits: list[Visit] = []

    async def call(
        self,
        method: str,
        path: str,
        expect: int | None,
        *,
        body: Any = None,
        raw: bytes | None = None,
        params: dict[str, str] | None = None,
        key: str | None = TEST_API_KEY,
        request_valid: bool = True,
    ) -> Any:
        """One request; `expect=None` means the connection is expected to drop."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        if raw is not None:
            headers["Content-Type"] = "application/json"
        data = io.BytesIO(raw) if raw is not None else None
        recorded = len(self.emulator.exchanges)
        try:
            async with self.session.request(
                method, path, json=body, data=data, params=params, headers=headers
            ) as response:
                assert response.status == expect, await response.text()
                answer = await response.json() if response.content_length else None
        except aiohttp.ServerDisconnectedError:
            assert expect is None
            answer = None
        for exchange in self.emulator.exchanges[recorded:]:
            self.visits.append(Visit(exchange, request_valid))
        return answer


async def take_the_tour(emulator: Emulator, session: aiohttp.ClientSession) -> list[Visit]:
    tour = Tour(emulator, session)
    await _scopes_and_fields(tour)
    await _lists(tour)
    contact_id = await _contacts(tour)
    await _exports(tour)
    await _deletions(tour, contact_id)
    await _faults(tour)
    return tour.visits


async def _scopes_and_fields(tour: Tour) -> None:
    call = tour.call
    await call("GET", "/v3/scopes", 200)
    await call("GET", "/v3/scopes", 401, key=None, request_valid=False)
    await call("GET", "/v3/scopes", 401, key="SG.nobody")
    await call("GET", "/v3/marketing/field_definitions", 200)
    field = {"name": "signup", "field_type": "Date"}
    await call("POST", "/v3/marketing/field_definitions", 200, body=field)
    await call("POST", "/v3/marketing/field_definitions", 400, body=field)
    await call(
        "POST", "/v3/marketing/field_definitions", 400, body={"name": "x"}, request_valid=False
    )
    await call("POST", "/v3/marketing/field_definitions", 403, body=field, key=READ_ONLY_KEY)
    created = await call(
        "POST", "/v3/marketing/field_definitions", 200, body={**field, "name": "x"}
    )
    one_field = f"/v3/marketing/field_definitions/{created['id']}"
    await call("DELETE", one_field, 403, key=READ_ONLY_KEY)
    await call("DELETE", one_field, 204)
    await call("DELETE", one_field, 404)


async def _lists(tour: Tour) -> None:
    call = tour.call
    await call("GET", "/v3/marketing/lists", 200)
    await call("GET", "/v3/marketing/lists", 200, params={"page_size": "1"})
    await call("GET", "/v3/marketing/lists", 400, params={"page_size": "0"}, request_valid=False)
    await call("POST", "/v3/marketing/lists", 201, body={"name": "tour"})
    await call("POST", "/v3/marketing/lists", 400, body={"name": "tour"})
    await call("POST", "/v3/marketing/lists", 400, body={}, request_valid=False)
    await call("POST", "/v3/marketing/lists", 403, body={"name": "ro"}, key=READ_ONLY_KEY)
    await call("GET", f"/v3/marketing/lists/{TEST_LIST_ID}", 200)
    await call("GET", f"/v3/marketing/lists/{UNKNOWN_LIST}", 404)
    await call("GET", f"/v3/marketing/lists/{TEST_LIST_ID}/contacts/count", 200)
    await call("GET", f"/v3/marketing/lists/{UNKNOWN_LIST}/contacts/count", 404)
    for name, params, status in (
        ("gone", None, 204),
        ("gone too", {"delete_contacts": "true"}, 200),
    ):
        doomed = await call("POST", "/v3/marketing/lists", 201, body={"name": name})
        one_list = f"/v3/marketing/lists/{doomed['id']}"
        await call("DELETE", one_list, 403, key=READ_ONLY_KEY)
        await call("DELETE", one_list, status, params=params)
    await call("DELETE", f"/v3/marketing/lists/{UNKNOWN_LIST}", 404)


async def _contacts(tour: Tour) -> str:
    call, emulator = tour.call, tour.emulator
    tier, orders = emulator.state.field_id("loyalty_tier"), emulator.state.field_id("orders")
    good = {
        "list_ids": [TEST_LIST_ID],
        "contacts": [
            {
                "email": "Tour@Example.com",
                "first_name": "Tour",
                "alternate_emails": ["tour@work.example"],
                "custom_fields": {tier: "gold", orders: 3},
            },
            {"email": "two@example.com", "custom_fields": {orders: "7"}},
            {"email": LONG_EMAIL},
        ],
    }
    emulator.faults.add(FaultRule(kind="out_of_order", seconds=3600, times=1))
    upserted = await call("PUT", "/v3/marketing/contacts", 202, body=good)
    await call("GET", f"/v3/marketing/contacts/imports/{upserted['job_id']}", 200)  # pending
    await emulator.settle()
    await call("GET", f"/v3/marketing/contacts/imports/{upserted['job_id']}", 200)  # completed
    bad = {"contacts": [{"email": "ok@example.com"}, {"email": "x@y.com", "first_name": "n" * 51}]}
    errored = await call("PUT", "/v3/marketing/contacts", 202, body=bad, request_valid=False)
    await emulator.settle()
    await call("GET", f"/v3/marketing/contacts/imports/{errored['job_id']}", 200)
    await call("GET", "/v3/marketing/contacts/imports/unknown", 404)
    unknown_list = {"list_ids": [UNKNOWN_LIST], "contacts": [{"email": "a@example.com"}]}
    await call("PUT", "/v3/marketing/contacts", 404, body=unknown_list)
    await call("PUT", "/v3/marketing/contacts", 400, body={"contacts": []}, request_valid=False)
    too_big = orjson.dumps(
        {"contacts": [{"email": "big@example.com", "postal_code": "9" * 6_000_000}]}
    )
    await call("PUT", "/v3/marketing/contacts", 413, raw=too_big)
    await call("PUT", "/v3/marketing/contacts", 403, body=good, key=READ_ONLY_KEY)
    search = "/v3/marketing/contacts/search/emails"
    found = await call("POST", search, 200, body={"emails": ["tour@example.com", "no@example.com"]})
    await call("POST", search, 200, body={"emails": [LONG_EMAIL]}, request_valid=False)
    await call("POST", search, 404, body={"emails": ["no@example.com"]})
    await call("POST", search, 400, body={"emails": ["not an email"]})
    many = [f"m{i}@example.com" for i in range(101)]
    await call("POST", search, 400, body={"emails": many})
    await call("POST", search, 400, body={}, request_valid=False)
    await call("GET", "/v3/marketing/contacts/count", 200)
    contact_id: str = found["result"]["tour@example.com"]["contact"]["id"]
    await call("GET", f"/v3/marketing/contacts/{contact_id}", 200)
    await call("GET", "/v3/marketing/contacts/unknown", 404)
    return contact_id


async def _exports(tour: Tour) -> None:
    call = tour.call
    exports = "/v3/marketing/contacts/exports"
    created = await call(
        "POST", exports, 202, body={"list_ids": [TEST_LIST_ID], "file_type": "json"}
    )
    await call("GET", f"{exports}/{created['id']}", 200)
    await call("POST", exports, 202)
    await call("POST", exports, 404, body={"list_ids": [UNKNOWN_LIST]})
    await call("POST", exports, 400, body={"file_type": "xml"}, request_valid=False)
    await call("GET", f"{exports}/unknown", 404)


async def _deletions(tour: Tour, contact_id: str) -> None:
    call = tour.call
    list_contacts = f"/v3/marketing/lists/{TEST_LIST_ID}/contacts"
    await call("DELETE", list_contacts, 202, params={"contact_ids": contact_id})
    await call("DELETE", list_contacts, 400, request_valid=False)
    unknown = f"/v3/marketing/lists/{UNKNOWN_LIST}/contacts"
    await call("DELETE", unknown, 404, params={"contact_ids": contact_id})
    removal = await call(
        "DELETE", list_contacts, 403, params={"contact_ids": contact_id}, key=READ_ONLY_KEY
    )
    assert removal["errors"]
    deleted = await call("DELETE", "/v3/marketing/contacts", 202, params={"ids": contact_id})
    await tour.emulator.settle()
    await call("GET", f"/v3/marketing/contacts/imports/{deleted['job_id']}", 200)
    await call("DELETE", "/v3/marketing/contacts", 202, params={"delete_all_contacts": "true"})
    await call("DELETE", "/v3/marketing/contacts", 400)


async def _faults(tour: Tour) -> None:
    call, faults = tour.call, tour.emulator.faults
    faults.add(FaultRule(kind="status", template="GET /v3/marketing/lists", status=503, times=1))
    await call("GET", "/v3/marketing/lists", 503)
    faults.add(FaultRule(kind="status", template="GET /v3/scopes", status=500, times=1))
    await call("GET", "/v3/scopes", 500)
    faults.add(FaultRule(kind="rate_limit_storm", template="PUT /v3/marketing/contacts", times=1))
    await call(
        "PUT", "/v3/marketing/contacts", 429, body={"contacts": [{"email": "s@example.com"}]}
    )
    faults.add(
        FaultRule(kind="rate_limit_storm", template="GET /v3/marketing/field_definitions", times=1)
    )
    await call("GET", "/v3/marketing/field_definitions", 429)
    faults.add(FaultRule(kind="reset_after_apply", template="POST /v3/marketing/lists", times=1))
    await call("POST", "/v3/marketing/lists", None, body={"name": "dropped"})
