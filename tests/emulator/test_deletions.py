"""Deleting contacts and removing them from lists: jobs too, pollable as `delete` jobs."""

from __future__ import annotations

import aiohttp
import pytest

from syncd.emulator import Emulator, EmulatorConfig
from tests.emulator.helpers import call, contact_ids, settled_job, upsert
from tests.fixtures_emulator import TEST_LIST_ID, default_emulator_config

DELETE_PARAMS = "either 'ids' OR 'delete_all_contacts' should be supplied as query param"


@pytest.fixture
async def three_on_the_list(client: aiohttp.ClientSession, emulator: Emulator) -> list[str]:
    emails = ["a@example.com", "b@example.com", "c@example.com"]
    await upsert(client, [{"email": email} for email in emails], list_ids=[TEST_LIST_ID])
    await emulator.settle()
    return await contact_ids(client, *emails)


async def test_removing_contacts_from_a_list_keeps_the_contacts(
    client: aiohttp.ClientSession, emulator: Emulator, three_on_the_list: list[str]
) -> None:
    first, second, _ = three_on_the_list
    status, answer = await call(
        client,
        "DELETE",
        f"/v3/marketing/lists/{TEST_LIST_ID}/contacts",
        params={"contact_ids": f"{first},{second}"},
    )
    assert status == 202
    finished = await settled_job(client, emulator, answer["job_id"])
    assert finished["job_type"] == "delete"
    assert finished["status"] == "completed"
    assert finished["results"]["deleted_count"] == 2
    assert emulator.state.list_members(TEST_LIST_ID) == {"c@example.com"}
    assert emulator.state.contact("a@example.com") is not None


async def test_removing_from_an_unknown_list_is_a_404(client: aiohttp.ClientSession) -> None:
    status, answer = await call(
        client,
        "DELETE",
        "/v3/marketing/lists/00000000-0000-4000-8000-000000000000/contacts",
        params={"contact_ids": "x"},
    )
    assert status == 404
    assert answer["errors"][0]["message"]


async def test_removing_from_a_list_without_contact_ids_is_a_400(
    client: aiohttp.ClientSession,
) -> None:
    status, answer = await call(client, "DELETE", f"/v3/marketing/lists/{TEST_LIST_ID}/contacts")
    assert status == 400
    assert answer["errors"][0]["field"] == "contact_ids"


async def test_removing_an_unknown_contact_id_from_a_list_is_a_404_removing_nothing(
    client: aiohttp.ClientSession, emulator: Emulator, three_on_the_list: list[str]
) -> None:
    status, answer = await call(
        client,
        "DELETE",
        f"/v3/marketing/lists/{TEST_LIST_ID}/contacts",
        params={"contact_ids": f"{three_on_the_list[0]},unknown"},
    )
    message = "The specified list ID does not exist or one or more contact IDs do not exist."
    assert (status, answer) == (404, {"errors": [{"field": None, "message": message}]})
    assert len(emulator.jobs) == 1  # the fixture's upsert
    assert len(emulator.state.list_members(TEST_LIST_ID)) == 3


async def test_removing_a_contact_that_is_not_on_the_list_removes_nothing(
    client: aiohttp.ClientSession, emulator: Emulator, three_on_the_list: list[str]
) -> None:
    await upsert(client, [{"email": "off@example.com"}])
    await emulator.settle()
    (off,) = await contact_ids(client, "off@example.com")
    status, answer = await call(
        client,
        "DELETE",
        f"/v3/marketing/lists/{TEST_LIST_ID}/contacts",
        params={"contact_ids": f"{off},{three_on_the_list[0]}"},
    )
    assert status == 202
    finished = await settled_job(client, emulator, answer["job_id"])
    assert finished["results"]["requested_count"] == 2
    assert finished["results"]["deleted_count"] == 1


async def test_deleting_contacts_by_id_removes_them_and_their_memberships(
    client: aiohttp.ClientSession, emulator: Emulator, three_on_the_list: list[str]
) -> None:
    status, answer = await call(
        client, "DELETE", "/v3/marketing/contacts", params={"ids": three_on_the_list[0]}
    )
    assert status == 202
    finished = await settled_job(client, emulator, answer["job_id"])
    assert (finished["job_type"], finished["results"]["deleted_count"]) == ("delete", 1)
    assert emulator.state.contact("a@example.com") is None
    assert emulator.state.list_members(TEST_LIST_ID) == {"b@example.com", "c@example.com"}


async def test_deleting_all_contacts_empties_the_account(
    client: aiohttp.ClientSession, emulator: Emulator, three_on_the_list: list[str]
) -> None:
    status, answer = await call(
        client, "DELETE", "/v3/marketing/contacts", params={"delete_all_contacts": "true"}
    )
    assert status == 202
    finished = await settled_job(client, emulator, answer["job_id"])
    assert finished["results"]["deleted_count"] == 3
    assert emulator.state.contacts == {}


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?ids=",
        "?ids=a&ids=b",
        "?ids=a&delete_all_contacts=true",
        "?delete_all_contacts=yes",
    ],
)
async def test_deleting_contacts_needs_either_ids_or_delete_all(
    client: aiohttp.ClientSession, emulator: Emulator, query: str
) -> None:
    status, answer = await call(client, "DELETE", f"/v3/marketing/contacts{query}")
    assert status == 400
    assert answer["errors"][0]["message"] == DELETE_PARAMS
    assert emulator.jobs == {}


class TestWithRemovalJobsNotPollable:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return default_emulator_config(removal_jobs_pollable=False)

    async def test_a_list_removal_is_applied_but_its_job_cannot_be_polled(
        self, client: aiohttp.ClientSession, emulator: Emulator, three_on_the_list: list[str]
    ) -> None:
        status, answer = await call(
            client,
            "DELETE",
            f"/v3/marketing/lists/{TEST_LIST_ID}/contacts",
            params={"contact_ids": three_on_the_list[0]},
        )
        assert status == 202
        await emulator.settle()
        path = f"/v3/marketing/contacts/imports/{answer['job_id']}"
        assert await call(client, "GET", path) == (
            404,
            {"errors": [{"field": None, "message": "job not found"}]},
        )
        assert emulator.state.list_members(TEST_LIST_ID) == {"b@example.com", "c@example.com"}

    async def test_upsert_and_contact_deletion_jobs_stay_pollable(
        self, client: aiohttp.ClientSession, emulator: Emulator, three_on_the_list: list[str]
    ) -> None:
        upserted = await upsert(client, [{"email": "d@example.com"}])
        assert (await settled_job(client, emulator, upserted))["status"] == "completed"
        _, answer = await call(
            client, "DELETE", "/v3/marketing/contacts", params={"ids": three_on_the_list[0]}
        )
        assert (await settled_job(client, emulator, answer["job_id"]))["status"] == "completed"
