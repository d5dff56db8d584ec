"""Exports: a snapshot of contacts, ready after a delay, downloadable from the emulator."""

from __future__ import annotations

import asyncio
import csv
import io

import aiohttp
import orjson
import pytest

from syncd.emulator import Emulator, EmulatorConfig
from tests.emulator.helpers import call, upsert
from tests.fixtures_emulator import TEST_LIST_ID, default_emulator_config


@pytest.fixture
async def two_contacts(client: aiohttp.ClientSession, emulator: Emulator) -> None:
    tier = emulator.state.field_id("loyalty_tier")
    await upsert(
        client,
        [{"email": "on@example.com", "first_name": "On", "custom_fields": {tier: "gold"}}],
        list_ids=[TEST_LIST_ID],
    )
    await upsert(client, [{"email": "off@example.com"}])
    await emulator.settle()


async def download(url: str) -> tuple[str, str]:
    async with aiohttp.ClientSession() as anonymous, anonymous.get(url) as response:
        assert response.status == 200
        return response.content_type, await response.text()


@pytest.mark.usefixtures("two_contacts")
async def test_a_json_export_of_a_list_holds_its_members_as_json_lines(
    client: aiohttp.ClientSession,
) -> None:
    status, created = await call(
        client,
        "POST",
        "/v3/marketing/contacts/exports",
        json={"list_ids": [TEST_LIST_ID], "file_type": "json"},
    )
    assert status == 202
    status, export = await call(client, "GET", f"/v3/marketing/contacts/exports/{created['id']}")
    assert (status, export["status"], export["contact_count"]) == (200, "ready", 1)
    content_type, text = await download(export["urls"][0])
    assert content_type == "application/x-ndjson"
    rows = [orjson.loads(line) for line in text.splitlines()]
    assert [(row["email"], row["custom_fields"]) for row in rows] == [
        ("on@example.com", {"loyalty_tier": "gold"})
    ]
    assert rows[0]["list_ids"] == [TEST_LIST_ID]


@pytest.mark.usefixtures("two_contacts")
async def test_a_csv_export_of_everything_holds_every_contact(
    client: aiohttp.ClientSession,
) -> None:
    status, created = await call(client, "POST", "/v3/marketing/contacts/exports")
    assert status == 202
    status, export = await call(client, "GET", f"/v3/marketing/contacts/exports/{created['id']}")
    content_type, text = await download(export["urls"][0])
    assert content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(row["EMAIL"] for row in rows) == ["off@example.com", "on@example.com"]
    assert {row["EMAIL"]: row["loyalty_tier"] for row in rows}["on@example.com"] == "gold"


async def test_an_unknown_export_is_a_404(client: aiohttp.ClientSession) -> None:
    assert (await call(client, "GET", "/v3/marketing/contacts/exports/nope"))[0] == 404


@pytest.mark.parametrize(
    "body",
    [{"file_type": "xml"}, {"segment_ids": ["s1"]}, {"list_ids": "nope"}],
)
async def test_an_invalid_export_request_is_a_400(
    client: aiohttp.ClientSession, body: dict[str, object]
) -> None:
    assert (await call(client, "POST", "/v3/marketing/contacts/exports", json=body))[0] == 400


class TestWithAnExportDelay:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return default_emulator_config(export_delay=10.0)

    @pytest.mark.looptime
    async def test_an_export_is_pending_until_its_delay_has_passed(
        self, client: aiohttp.ClientSession
    ) -> None:
        _, created = await call(client, "POST", "/v3/marketing/contacts/exports", json={})
        path = f"/v3/marketing/contacts/exports/{created['id']}"
        _, pending = await call(client, "GET", path)
        assert pending["status"] == "pending"
        assert "urls" not in pending
        await asyncio.sleep(11)
        _, ready = await call(client, "GET", path)
        assert ready["status"] == "ready"
