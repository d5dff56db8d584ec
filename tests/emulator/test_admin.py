"""The admin API under /_emulator/ (look inside), and seeding the account from a config."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from syncd.emulator import Emulator, FaultRule
from tests.emulator.helpers import call, upsert
from tests.fixtures_emulator import TEST_LIST_ID, default_emulator_config


@pytest.fixture
async def admin(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=emulator.url) as session:
        yield session


async def test_the_state_shows_contacts_lists_jobs_and_faults(
    client: aiohttp.ClientSession, emulator: Emulator, admin: aiohttp.ClientSession
) -> None:
    job_id = await upsert(client, [{"email": "st@example.com"}], list_ids=[TEST_LIST_ID])
    await emulator.settle()
    emulator.faults.add(FaultRule(kind="delay", seconds=0.0))
    status, state = await call(admin, "GET", "/_emulator/state")
    assert status == 200
    assert [contact["email"] for contact in state["contacts"]] == ["st@example.com"]
    assert state["lists"][0]["members"] == ["st@example.com"]
    assert [(job["id"], job["status"]) for job in state["jobs"]] == [(job_id, "completed")]
    assert state["pending_jobs"] == 0
    assert [fault["kind"] for fault in state["faults"]] == ["delay"]
    assert [field["name"] for field in state["custom_fields"]] == ["loyalty_tier", "orders"]


async def test_the_request_log_lists_every_v3_request(
    client: aiohttp.ClientSession, emulator: Emulator, admin: aiohttp.ClientSession
) -> None:
    job_id = await upsert(client, [{"email": "a@example.com"}, {"email": "b@example.com"}])
    await call(client, "GET", "/v3/marketing/lists")
    status, records = await call(admin, "GET", "/_emulator/requests")
    assert status == 200
    assert [(r["template"], r["status"], r["contact_count"], r["job_id"]) for r in records] == [
        ("PUT /v3/marketing/contacts", 202, 2, job_id),
        ("GET /v3/marketing/lists", 200, None, None),
    ]
    assert [record.template for record in emulator.write_requests()] == [
        "PUT /v3/marketing/contacts"
    ]
    assert emulator.count_requests(method="GET") == 1


def seeded(seed: dict[str, list[dict[str, object]]]) -> Emulator:
    """An emulator whose config adds `seed` to the fixtures' account (one list, two fields)."""
    base = default_emulator_config()
    return Emulator(
        default_emulator_config(
            lists=[*base.lists, *seed.get("lists", [])],
            custom_fields=[*base.custom_fields, *seed.get("custom_fields", [])],
            contacts=seed.get("contacts", []),
            **{key: value for key, value in seed.items() if key not in SEED_KEYS},
        )
    )


SEED_KEYS = ("lists", "custom_fields", "contacts")


async def test_seeding_adds_lists_fields_and_contacts() -> None:
    new_list = "11111111-2222-4333-8444-555555555555"
    emulator = seeded(
        {
            "lists": [{"id": new_list, "name": "vip"}],
            "custom_fields": [{"name": "region", "field_type": "Text"}],
            "contacts": [{"email": "Vip@Example.com", "list_ids": [new_list, TEST_LIST_ID]}],
        }
    )
    assert [found.name for found in emulator.state.lists.values()] == ["syncd-test", "vip"]
    assert list(emulator.state.field_types().items())[-1] == ("e3_T", "Text")
    stored = emulator.state.contact("vip@example.com")
    assert stored is not None
    assert stored["list_ids"] == [TEST_LIST_ID, new_list]


@pytest.mark.parametrize(
    "seed",
    [
        {"lists": [{"name": "syncd-test"}]},
        {"lists": [{"id": "not-a-uuid", "name": "x"}]},
        {"custom_fields": [{"name": "x", "field_type": "Colour"}]},
        {"contacts": [{"email": "nope"}]},
        {"contacts": [{"email": "a@example.com", "list_ids": ["no-such-list"]}]},
        {"contacts": [{"email": "a@example.com", "fields": {"first_name": "A"}}]},
        {"planets": []},
    ],
)
async def test_an_invalid_seed_is_refused(seed: dict[str, list[dict[str, object]]]) -> None:
    with pytest.raises(ValueError, match=r"."):
        seeded(seed)


async def test_the_admin_api_needs_no_key_but_the_errors_file_of_an_unknown_job_is_a_404(
    admin: aiohttp.ClientSession,
) -> None:
    status, _ = await call(admin, "GET", "/_emulator/files/errors/nope.csv")
    assert status == 404
