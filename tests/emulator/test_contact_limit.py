"""A contact limit: an upsert that would exceed it fails whole, as SendGrid's jobs do."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from syncd.emulator import Emulator, EmulatorConfig
from tests.emulator.helpers import call, settled_job, upsert
from tests.fixtures_emulator import default_emulator_config

LIMIT_REACHED = {"field": None, "message": "you have hit your contact limit"}


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return default_emulator_config(contact_limit=3)


@pytest.fixture
async def admin(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=emulator.url) as session:
        yield session


def people(*names: str) -> list[dict[str, str]]:
    return [{"email": f"{name}@example.com"} for name in names]


async def test_an_upsert_up_to_the_limit_is_applied(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    finished = await settled_job(client, emulator, await upsert(client, people("a", "b", "c")))
    assert (finished["status"], finished["results"]["created_count"]) == ("completed", 3)
    assert "errors" not in finished


async def test_an_upsert_beyond_the_limit_fails_whole_without_an_errors_file(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    await upsert(client, people("a", "b"))
    job_id = await upsert(
        client, [{"email": "a@example.com", "first_name": "A"}, *people("c", "d")]
    )
    finished = await settled_job(client, emulator, job_id)
    assert finished["status"] == "failed"
    assert finished["errors"] == [LIMIT_REACHED]
    assert finished["results"] == {
        "requested_count": 3,
        "created_count": 0,
        "updated_count": 0,
        "deleted_count": 0,
        "errored_count": 0,
    }
    assert sorted(emulator.state.contacts) == ["a@example.com", "b@example.com"]
    assert "first_name" not in (emulator.state.contact("a@example.com") or {})


async def test_updates_and_rejected_contacts_do_not_count_towards_the_limit(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    await upsert(client, people("a", "b", "c"))
    job_id = await upsert(client, [*people("a", "b"), {"email": "not an email"}])
    finished = await settled_job(client, emulator, job_id)
    assert (finished["status"], finished["results"]["updated_count"]) == ("errored", 2)


async def test_the_admin_api_can_raise_and_remove_the_limit_at_run_time(
    client: aiohttp.ClientSession, emulator: Emulator, admin: aiohttp.ClientSession
) -> None:
    await upsert(client, people("a", "b", "c"))
    failed = await settled_job(client, emulator, await upsert(client, people("d")))
    assert failed["status"] == "failed"
    await call(admin, "PATCH", "/_emulator/behaviour", json={"contact_limit": 4})
    raised = await settled_job(client, emulator, await upsert(client, people("d")))
    assert raised["status"] == "completed"
    await call(admin, "PATCH", "/_emulator/behaviour", json={"contact_limit": None})
    unlimited = await settled_job(client, emulator, await upsert(client, people("e", "f", "g")))
    assert (unlimited["status"], len(emulator.state.contacts)) == ("completed", 7)
