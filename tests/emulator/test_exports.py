"""Exports: the account when the export is ready, split into files, maybe gzip'd."""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
from typing import Any

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


EXPORTS = "/v3/marketing/contacts/exports"


async def download(url: str) -> tuple[str, str]:
    async with aiohttp.ClientSession() as anonymous, anonymous.get(url) as response:
        assert response.status == 200
        return response.content_type, await response.text()


async def download_bytes(url: str) -> tuple[str, bytes]:
    async with aiohttp.ClientSession() as anonymous, anonymous.get(url) as response:
        assert response.status == 200
        return response.content_type, await response.read()


async def ready_export(client: aiohttp.ClientSession, body: object = None) -> dict[str, Any]:
    """Requests an export and polls it until it is no longer pending (no export delay)."""
    status, created = await call(client, "POST", EXPORTS, json=body)
    assert status == 202, created
    for _ in range(100):
        status, export = await call(client, "GET", f"{EXPORTS}/{created['id']}")
        assert status == 200
        if export["status"] != "pending":
            return dict(export)
        await asyncio.sleep(0)
    raise AssertionError("the export stayed pending")


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


@pytest.mark.usefixtures("two_contacts")
async def test_a_json_export_of_a_list_holds_its_members_as_json_lines(
    client: aiohttp.ClientSession,
) -> None:
    export = await ready_export(client, {"list_ids": [TEST_LIST_ID], "file_type": "json"})
    assert (export["status"], export["contact_count"]) == ("ready", 1)
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
    export = await ready_export(client)
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


@pytest.mark.parametrize("size", [0, -1, "5", 1.5, True])
async def test_an_export_with_a_bad_max_file_size_is_a_400(
    client: aiohttp.ClientSession, size: object
) -> None:
    status, answer = await call(client, "POST", EXPORTS, json={"max_file_size": size})
    assert (status, answer["errors"][0]["field"]) == (400, "max_file_size")


@pytest.mark.usefixtures("two_contacts")
async def test_a_csv_export_names_its_columns_as_sendgrid_does(
    client: aiohttp.ClientSession,
) -> None:
    export = await ready_export(client)
    _, data = await download_bytes(export["urls"][0])
    header = data.decode().splitlines()[0].split(",")
    assert header[:3] == ["EMAIL", "FIRST_NAME", "LAST_NAME"]
    assert header[-5:] == ["CONTACT_ID", "CREATED_AT", "UPDATED_AT", "loyalty_tier", "orders"]
    (on,) = [row for row in csv_rows(data) if row["EMAIL"] == "on@example.com"]
    assert (on["FIRST_NAME"], on["LIST_IDS"], on["orders"]) == ("On", TEST_LIST_ID, "")


class TestSplitFiles:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return default_emulator_config(export_file_rows=2)

    async def test_an_export_is_split_at_export_file_rows_each_file_with_its_header(
        self, client: aiohttp.ClientSession, emulator: Emulator
    ) -> None:
        await upsert(client, [{"email": f"p{i}@example.com"} for i in range(5)], [TEST_LIST_ID])
        await emulator.settle()
        export = await ready_export(client, {"list_ids": [TEST_LIST_ID]})
        assert export["contact_count"] == 5
        assert [url.rsplit("/", 2)[-2:] for url in export["urls"]] == [
            [export["id"], "1.csv"],
            [export["id"], "2.csv"],
            [export["id"], "3.csv"],
        ]
        files = [csv_rows((await download_bytes(url))[1]) for url in export["urls"]]
        assert [len(rows) for rows in files] == [2, 2, 1]
        emails = [row["EMAIL"] for rows in files for row in rows]
        assert emails == [f"p{i}@example.com" for i in range(5)]

    async def test_an_export_is_split_at_max_file_size_megabytes(
        self, client: aiohttp.ClientSession, emulator: Emulator
    ) -> None:
        async with aiohttp.ClientSession(base_url=emulator.url) as admin:
            await call(admin, "PATCH", "/_emulator/behaviour", json={"export_file_rows": None})
        padding = "9" * 400
        for first in (0, 1500):  # two upserts, each body under aiohttp's 1 MB warning
            contacts = [
                {"email": f"big{i}@example.com", "postal_code": padding}
                for i in range(first, first + 1500)
            ]
            await upsert(client, contacts)
        await emulator.settle()
        export = await ready_export(client, {"max_file_size": 1})
        assert (export["contact_count"], len(export["urls"])) == (3000, 2)
        files = [(await download_bytes(url))[1] for url in export["urls"]]
        assert all(len(data) <= 1_000_000 for data in files)
        assert sum(len(csv_rows(data)) for data in files) == 3000


class TestTheStrictProfile:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return default_emulator_config(profile="strict")

    @pytest.mark.usefixtures("two_contacts")
    async def test_export_files_are_gzip_bytes_whatever_their_name(
        self, client: aiohttp.ClientSession
    ) -> None:
        export = await ready_export(client, {"file_type": "csv"})
        assert export["urls"][0].endswith("/1.csv")
        content_type, data = await download_bytes(export["urls"][0])
        assert (content_type, data[:2]) == ("application/octet-stream", b"\x1f\x8b")
        emails = sorted(row["EMAIL"] for row in csv_rows(gzip.decompress(data)))
        assert emails == ["off@example.com", "on@example.com"]


class TestLowerCaseHeaders:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return default_emulator_config(export_header_case="lower")

    @pytest.mark.usefixtures("two_contacts")
    async def test_reserved_columns_are_lower_case_and_custom_ones_as_defined(
        self, client: aiohttp.ClientSession
    ) -> None:
        export = await ready_export(client)
        _, data = await download_bytes(export["urls"][0])
        header = data.decode().splitlines()[0].split(",")
        assert header[:2] == ["email", "first_name"]
        assert header[-3:] == ["updated_at", "loyalty_tier", "orders"]


async def test_export_files_are_held_gzip_d_in_memory_even_when_served_plain(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    await upsert(client, [{"email": f"m{i}@example.com", "city": "Oslo"} for i in range(2000)])
    await emulator.settle()
    export = await ready_export(client)
    _, data = await download_bytes(export["urls"][0])
    assert len(csv_rows(data)) == 2000
    (held,) = emulator.services.exports.exports[export["id"]].files
    assert len(held.gzipped) < len(data) / 4


class TestWithADelay:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return default_emulator_config(export_delay=10.0)

    @pytest.mark.looptime
    async def test_an_export_holds_the_account_as_it_is_when_the_export_is_ready(
        self, client: aiohttp.ClientSession, emulator: Emulator
    ) -> None:
        await upsert(client, [{"email": "early@example.com"}], [TEST_LIST_ID])
        await emulator.settle()
        _, created = await call(client, "POST", EXPORTS, json={"list_ids": [TEST_LIST_ID]})
        await asyncio.sleep(5)
        await upsert(client, [{"email": "late@example.com"}], [TEST_LIST_ID])
        await upsert(client, [{"email": "early@example.com", "first_name": "Changed"}])
        await emulator.settle()
        await asyncio.sleep(6)
        await upsert(client, [{"email": "too-late@example.com"}], [TEST_LIST_ID])
        await emulator.settle()
        path = f"{EXPORTS}/{created['id']}"
        _, export = await call(client, "GET", path)
        assert (export["status"], export["contact_count"]) == ("ready", 2)
        rows = csv_rows((await download_bytes(export["urls"][0]))[1])
        assert [(row["EMAIL"], row["FIRST_NAME"]) for row in rows] == [
            ("early@example.com", "Changed"),
            ("late@example.com", ""),
        ]
        await asyncio.sleep(3600)
        assert (await call(client, "GET", path))[1]["urls"] == export["urls"]
