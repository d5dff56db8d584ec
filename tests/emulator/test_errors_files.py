"""The errors file's layout is undocumented: its format, headers and completeness are knobs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from syncd.emulator import Emulator, EmulatorConfig
from tests.emulator.helpers import call, errors_file, settled_job, upsert
from tests.fixtures_emulator import default_emulator_config

THREE_BAD = [
    {"email": "ok@example.com"},
    {"email": "a@b"},
    {"email": "long@example.com", "first_name": "x" * 51},
    {"email": "city@example.com", "city": "y" * 61},
]
REASONS = [
    ("a@b", "invalid email"),
    ("long@example.com", "first_name exceeds the maximum length of 50"),
    ("city@example.com", "city exceeds the maximum length of 60"),
]


@pytest.fixture
async def admin(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=emulator.url) as session:
        yield session


async def errored_job(client: aiohttp.ClientSession, emulator: Emulator) -> dict[str, object]:
    finished = await settled_job(client, emulator, await upsert(client, THREE_BAD))
    results: dict[str, object] = finished["results"]
    assert (finished["status"], results["errored_count"]) == ("errored", 3)
    return results


class TestTheStrictProfile:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return default_emulator_config(profile="strict", bad_values="in_job")

    async def test_the_email_column_is_not_called_email(
        self, client: aiohttp.ClientSession, emulator: Emulator
    ) -> None:
        results = await errored_job(client, emulator)
        rows = await errors_file(str(results["errors_url"]), "Email Address", "Error")
        assert [(row["Email Address"], row["Error"]) for row in rows] == REASONS


async def test_the_headers_can_be_set(
    client: aiohttp.ClientSession, emulator: Emulator, admin: aiohttp.ClientSession
) -> None:
    change = {"errors_file_email_header": "EMAIL", "errors_file_reason_header": "Reason"}
    assert (await call(admin, "PATCH", "/_emulator/behaviour", json=change))[0] == 200
    results = await errored_job(client, emulator)
    rows = await errors_file(str(results["errors_url"]), "EMAIL", "Reason")
    assert [(row["EMAIL"], row["Reason"]) for row in rows] == REASONS


async def test_a_json_errors_file_is_an_array_of_objects(
    client: aiohttp.ClientSession, emulator: Emulator, admin: aiohttp.ClientSession
) -> None:
    change = {"errors_file_format": "json", "errors_file_email_header": "email_address"}
    await call(admin, "PATCH", "/_emulator/behaviour", json=change)
    job_id = await upsert(client, THREE_BAD)
    results = (await settled_job(client, emulator, job_id))["results"]
    assert results["errors_url"] == f"{emulator.url}/_emulator/files/errors/{job_id}.json"
    status, rows = await call(admin, "GET", results["errors_url"])
    assert status == 200
    assert rows == [{"email_address": email, "error": reason} for email, reason in REASONS]


async def test_a_file_that_omits_rows_still_counts_them_as_errored(
    client: aiohttp.ClientSession, emulator: Emulator, admin: aiohttp.ClientSession
) -> None:
    await call(admin, "PATCH", "/_emulator/behaviour", json={"errors_file_omits": 2})
    results = await errored_job(client, emulator)
    rows = await errors_file(str(results["errors_url"]))
    assert [(row["email"], row["error"]) for row in rows] == REASONS[:1]


async def test_a_files_layout_is_fixed_when_its_job_finishes(
    client: aiohttp.ClientSession, emulator: Emulator, admin: aiohttp.ClientSession
) -> None:
    results = await errored_job(client, emulator)
    await call(admin, "PATCH", "/_emulator/behaviour", json={"errors_file_format": "json"})
    assert len(await errors_file(str(results["errors_url"]))) == 3
    json_url = str(results["errors_url"]).removesuffix(".csv") + ".json"
    assert (await call(admin, "GET", json_url))[0] == 404
