"""A tour of the answers only the strict knobs give, for the contract tests: refusals up
front, search refusals that name no email, a failed job's message, unpollable removal jobs,
split exports, a legacy account. Run it against an emulator with the strict profile."""

from __future__ import annotations

import asyncio

import aiohttp

from syncd.emulator import Emulator
from tests.contract.tour import Tour, Visit
from tests.fixtures_emulator import TEST_LIST_ID

SEARCH = "/v3/marketing/contacts/search/emails"
EXPORTS = "/v3/marketing/contacts/exports"


async def take_the_strict_tour(emulator: Emulator, session: aiohttp.ClientSession) -> list[Visit]:
    tour = Tour(emulator, session)
    contact_id = await _upserts_and_search(tour)
    await _removals(tour, contact_id)
    await _exports(tour)
    await _contact_limit(tour)
    emulator.services.behaviour = emulator.services.behaviour.changed({"legacy_account": True})
    await tour.call("GET", "/v3/scopes", 200)
    await tour.call("GET", f"/v3/marketing/lists/{TEST_LIST_ID}", 403)
    await tour.call("PUT", "/v3/marketing/contacts", 403, body={"contacts": [{"email": "l@x.io"}]})
    await tour.call("POST", SEARCH, 403, body={"emails": ["l@x.io"]})
    return tour.visits


async def _upserts_and_search(tour: Tour) -> str:
    call, emulator = tour.call, tour.emulator
    orders = emulator.state.field_id("orders")
    bad_values = {
        "contacts": [
            {"email": "a@example.com", "custom_fields": {orders: "3"}},
            {"email": "b@example.com", "first_name": "n" * 51, "custom_fields": {orders: ""}},
        ]
    }
    await call("PUT", "/v3/marketing/contacts", 400, body=bad_values, request_valid=False)
    unknown_ids = {"contacts": [{"email": "a@example.com", "custom_fields": {"e9_T": "x"}}]}
    await call("PUT", "/v3/marketing/contacts", 400, body=unknown_ids)
    nulls = {"contacts": [{"email": "a@example.com", "custom_fields": {orders: None}}]}
    # Valid by the spec, which types no custom field but its example `w1`.
    await call("PUT", "/v3/marketing/contacts", 400, body=nulls)
    good = {"list_ids": [TEST_LIST_ID], "contacts": [{"email": "a@example.com"}]}
    upserted = await call("PUT", "/v3/marketing/contacts", 202, body=good)
    await emulator.settle()
    await call("GET", f"/v3/marketing/contacts/imports/{upserted['job_id']}", 200)
    await call("POST", SEARCH, 404, body={"emails": ["a@example.com"]})  # not yet: the lag
    await call(
        "POST",
        SEARCH,
        400,
        body={"emails": ["x" * 64 + "@" + "y" * 40 + ".com"]},
        request_valid=False,
    )
    await call("POST", SEARCH, 400, body={"emails": ["not an email"]})
    emulator.services.behaviour = emulator.services.behaviour.changed({"search_lag": 0})
    found = await call("POST", SEARCH, 200, body={"emails": ["a@example.com", "no@example.com"]})
    contact_id: str = found["result"]["a@example.com"]["contact"]["id"]
    return contact_id


async def _removals(tour: Tour, contact_id: str) -> None:
    call = tour.call
    list_contacts = f"/v3/marketing/lists/{TEST_LIST_ID}/contacts"
    await call("DELETE", list_contacts, 404, params={"contact_ids": f"{contact_id},unknown"})
    removal = await call("DELETE", list_contacts, 202, params={"contact_ids": contact_id})
    await tour.emulator.settle()
    await call("GET", f"/v3/marketing/contacts/imports/{removal['job_id']}", 404)


async def _contact_limit(tour: Tour) -> None:
    emulator = tour.emulator
    emulator.services.behaviour = emulator.services.behaviour.changed({"contact_limit": 1})
    body = {"contacts": [{"email": "over@example.com"}]}
    over = await tour.call("PUT", "/v3/marketing/contacts", 202, body=body)
    await emulator.settle()
    failed = await tour.call("GET", f"/v3/marketing/contacts/imports/{over['job_id']}", 200)
    assert failed["status"] == "failed"


async def _exports(tour: Tour) -> None:
    call, emulator = tour.call, tour.emulator
    emulator.services.behaviour = emulator.services.behaviour.changed({"export_file_rows": 1})
    await call("PUT", "/v3/marketing/contacts", 202, body={"contacts": [{"email": "c@x.io"}]})
    await emulator.settle()
    created = await call("POST", EXPORTS, 202, body={"file_type": "json", "max_file_size": 1})
    for _ in range(100):
        export = await call("GET", f"{EXPORTS}/{created['id']}", 200)
        if export["status"] == "ready":
            break
        await asyncio.sleep(0)
    assert len(export["urls"]) == 2
    await call("POST", EXPORTS, 400, body={"max_file_size": 0})
