"""Jobs go pending -> completed / errored / failed, with counts and an errors file."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from syncd.emulator import Emulator, EmulatorConfig
from tests.emulator.helpers import call, errors_file, job, settled_job, upsert
from tests.fixtures_emulator import default_emulator_config


async def test_a_job_with_some_rejected_contacts_ends_errored_with_an_errors_file(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    orders = emulator.state.field_id("orders")
    job_id = await upsert(
        client,
        [
            {"email": "ok@example.com"},
            {"email": "Not an Email"},
            {"email": "long@example.com", "first_name": "x" * 51},
            {"email": "ghost@example.com", "custom_fields": {"e99_T": "boo"}},
            {"email": "count@example.com", "custom_fields": {orders: "many"}},
            {"email": "city@example.com", "city": "y" * 61},
        ],
    )
    finished = await settled_job(client, emulator, job_id)
    assert finished["status"] == "errored"
    assert finished["results"]["created_count"] == 1
    assert finished["results"]["errored_count"] == 5
    url = finished["results"]["errors_url"]
    assert url == f"{emulator.url}/_emulator/files/errors/{job_id}.csv"
    rows = await errors_file(url)
    assert rows == [
        {"email": "not an email", "error": "invalid email"},
        {"email": "long@example.com", "error": "first_name exceeds the maximum length of 50"},
        {"email": "ghost@example.com", "error": "invalid custom field ids supplied - e99_T"},
        {
            "email": "count@example.com",
            "error": f"invalid value for custom field {orders}: expected a Number",
        },
        {"email": "city@example.com", "error": "city exceeds the maximum length of 60"},
    ]
    assert emulator.state.contact("long@example.com") is None


async def test_a_job_whose_contacts_are_all_rejected_ends_failed(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    job_id = await upsert(client, [{"email": "a@b"}, {"email": "@example.com"}])
    finished = await settled_job(client, emulator, job_id)
    assert finished["status"] == "failed"
    assert len(await errors_file(finished["results"]["errors_url"])) == 2


async def test_an_unknown_job_is_a_404_in_sendgrids_error_shape(
    client: aiohttp.ClientSession,
) -> None:
    status, answer = await call(client, "GET", "/v3/marketing/contacts/imports/nope")
    assert status == 404
    assert answer == {"errors": [{"field": None, "message": "job not found"}]}


async def test_a_job_without_delay_is_applied_by_the_background_task(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    job_id = await upsert(client, [{"email": "bg@example.com"}])
    for _ in range(100):
        if emulator.jobs[job_id].status != "pending":
            break
        await asyncio.sleep(0)
    assert (await job(client, job_id))["status"] == "completed"


class TestWithAJobDelay:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return default_emulator_config(job_delay=30.0)

    @pytest.mark.looptime
    async def test_a_job_stays_pending_for_the_configured_delay(
        self, client: aiohttp.ClientSession, emulator: Emulator
    ) -> None:
        job_id = await upsert(client, [{"email": "slow@example.com"}])
        await asyncio.sleep(29)
        pending = await job(client, job_id)
        assert pending["status"] == "pending"
        assert "finished_at" not in pending
        assert emulator.state.contact("slow@example.com") is None
        await asyncio.sleep(2)
        finished = await job(client, job_id)
        assert finished["status"] == "completed"
        assert finished["finished_at"] >= finished["started_at"]

    async def test_settle_applies_pending_jobs_at_once_whatever_their_delay(
        self, client: aiohttp.ClientSession, emulator: Emulator
    ) -> None:
        job_id = await upsert(client, [{"email": "now@example.com"}])
        assert emulator.jobs[job_id].status == "pending"
        await emulator.settle()
        assert (await job(client, job_id))["status"] == "completed"
