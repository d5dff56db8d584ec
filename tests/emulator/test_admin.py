"""The admin API under /_emulator/: inspect, reset, seed, settle, manage faults."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from syncd.emulator import Emulator, EmulatorConfig, FaultRule
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


async def test_reset_returns_to_the_seeded_account(
    client: aiohttp.ClientSession, emulator: Emulator, admin: aiohttp.ClientSession
) -> None:
    await upsert(client, [{"email": "gone@example.com"}], list_ids=[TEST_LIST_ID])
    await call(client, "POST", "/v3/marketing/lists", json={"name": "extra"})
    emulator.faults.add(FaultRule(kind="status", template="GET /v3/marketing/contacts/count"))
    await emulator.settle()
    status, _ = await call(admin, "POST", "/_emulator/reset")
    assert status == 200
    assert emulator.state.contacts == {}
    assert list(emulator.state.lists) == [TEST_LIST_ID]
    assert emulator.faults.describe() == []
    assert emulator.requests == []
    assert (await call(client, "GET", "/v3/marketing/contacts/count"))[0] == 200


async def test_seeding_adds_lists_fields_and_contacts(
    client: aiohttp.ClientSession, emulator: Emulator, admin: aiohttp.ClientSession
) -> None:
    new_list = "11111111-2222-4333-8444-555555555555"
    seed = {
        "lists": [{"id": new_list, "name": "vip"}],
        "custom_fields": [{"name": "region", "field_type": "Text"}],
        "contacts": [
            {
                "email": "Vip@Example.com",
                "list_ids": [new_list],
                "fields": {"first_name": "Vi"},
                "custom_fields": {"region": "north", "orders": 5},
            }
        ],
    }
    status, state = await call(admin, "POST", "/_emulator/seed", json=seed)
    assert status == 200
    assert [found["name"] for found in state["lists"]] == ["syncd-test", "vip"]
    stored = emulator.state.contact("vip@example.com")
    assert stored is not None
    assert stored["first_name"] == "Vi"
    assert stored["custom_fields"] == {"e3_T": "north", "e2_N": 5}
    assert emulator.state.list_members(new_list) == {"vip@example.com"}


@pytest.mark.parametrize(
    "seed",
    [
        {"lists": [{"name": "syncd-test"}]},
        {"lists": [{"id": "not-a-uuid", "name": "x"}]},
        {"custom_fields": [{"name": "x", "field_type": "Colour"}]},
        {"contacts": [{"email": "nope"}]},
        {"contacts": [{"email": "a@example.com", "custom_fields": {"unknown": 1}}]},
        {"planets": []},
    ],
)
async def test_an_invalid_seed_is_a_400(admin: aiohttp.ClientSession, seed: object) -> None:
    status, answer = await call(admin, "POST", "/_emulator/seed", json=seed)
    assert status == 400
    assert answer["errors"][0]["message"]


class TestWithAJobDelay:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return default_emulator_config(job_delay=3600.0)

    async def test_settle_through_the_admin_api_applies_pending_jobs(
        self, client: aiohttp.ClientSession, emulator: Emulator, admin: aiohttp.ClientSession
    ) -> None:
        job_id = await upsert(client, [{"email": "s@example.com"}])
        assert emulator.jobs[job_id].status == "pending"
        assert await call(admin, "POST", "/_emulator/settle") == (200, {"pending_jobs": 0})
        assert emulator.jobs[job_id].status == "completed"


async def test_faults_can_be_listed_removed_and_cleared(admin: aiohttp.ClientSession) -> None:
    rules = [
        {"kind": "status", "status": 502, "times": 3},
        {"kind": "delay", "template": "GET /v3/scopes", "seconds": 2},
    ]
    status, added = await call(admin, "POST", "/_emulator/faults", json=rules)
    assert status == 201
    assert [(fault["kind"], fault["remaining"]) for fault in added] == [
        ("status", 3),
        ("delay", None),
    ]
    assert await call(admin, "DELETE", f"/_emulator/faults/{added[0]['id']}") == (204, None)
    assert await call(admin, "DELETE", "/_emulator/faults/nope") == (
        404,
        {"errors": [{"field": None, "message": "no such fault"}]},
    )
    _, listed = await call(admin, "GET", "/_emulator/faults")
    assert [fault["id"] for fault in listed] == [added[1]["id"]]
    assert await call(admin, "DELETE", "/_emulator/faults") == (204, None)
    assert await call(admin, "GET", "/_emulator/faults") == (200, [])


async def test_the_admin_api_needs_no_key_but_the_errors_file_of_an_unknown_job_is_a_404(
    admin: aiohttp.ClientSession,
) -> None:
    status, _ = await call(admin, "GET", "/_emulator/files/errors/nope.csv")
    assert status == 404
