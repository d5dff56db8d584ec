"""The client calls only `syncd probe --live` makes: lists and custom fields created, found
and deleted, job counts, errors files as downloaded, and every answer's headers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from syncd.clock import LoopClock
from syncd.emulator import Emulator, EmulatorConfig, FaultRule
from syncd.metrics import Metrics
from syncd.sendgrid import RateGate, SendGridClient, SendGridHttp, upsert_body
from syncd.sendgrid.errors_file import ErrorsFileLayout, read_errors_file
from syncd.sendgrid.replies import Reply
from tests.fixtures_emulator import TEST_API_KEY, TEST_LIST_ID, strict_emulator_config
from tests.sendgrid.test_client import wait_for

pytestmark = pytest.mark.looptime


@pytest.fixture
def clock() -> LoopClock:
    return LoopClock()


@pytest.fixture
def emulator_config(clock: LoopClock) -> EmulatorConfig:
    return strict_emulator_config(wall_clock=clock.now, bad_values="in_job")


@pytest.fixture
def replies() -> list[Reply]:
    return []


@pytest.fixture
async def client(
    emulator: Emulator, clock: LoopClock, replies: list[Reply]
) -> AsyncIterator[SendGridClient]:
    async with aiohttp.ClientSession() as session:
        http = SendGridHttp(
            session,
            emulator.url,
            lambda: TEST_API_KEY,
            RateGate(clock),
            Metrics(),
            key_hint="env SENDGRID_API_KEY",
            on_reply=lambda endpoint, reply: replies.append(reply),
        )
        yield SendGridClient(http)


async def test_a_created_list_is_found_by_name_across_pages_then_deleted(
    client: SendGridClient, emulator: Emulator
) -> None:
    for name in ("one", "two", "three"):
        await client.create_list(name)

    found = await client.find_list("three", page_size=2)

    assert found is not None
    assert (found.name, found.contact_count) == ("three", 0)
    assert await client.find_list("four", page_size=2) is None
    assert await client.delete_list(found.id) is True
    assert found.id not in emulator.state.lists
    assert await client.delete_list(found.id) is False


async def test_a_created_custom_field_has_its_id_and_type_and_can_be_deleted_once(
    client: SendGridClient, emulator: Emulator
) -> None:
    created = await client.create_field("probe_date", "Date")

    assert (created.id, created.type) == ("e3_D", "Date")
    assert await client.delete_field(created.id) is True
    assert "e3_D" not in emulator.state.custom_fields
    assert await client.delete_field(created.id) is False


async def test_a_job_carries_its_counts_and_its_errors_file_comes_as_downloaded(
    client: SendGridClient,
) -> None:
    contacts = [b'{"email":"ok@example.com"}', b'{"email":"bad..dots@example.com"}']
    job = await wait_for(client, await client.upsert(upsert_body(TEST_LIST_ID, contacts)))

    assert job.status == "errored"
    assert job.counts == {
        "requested_count": 2,
        "created_count": 1,
        "updated_count": 0,
        "deleted_count": 0,
        "errored_count": 1,
    }
    assert job.errors_url is not None
    raw = await client.errors_file(job.errors_url)
    assert raw is not None
    layout, rows = read_errors_file(raw)
    assert layout == ErrorsFileLayout(
        gzipped=False, format="csv", headers=("Email Address", "Error"), rows=1
    )
    assert rows[0]["Email Address"] == "bad..dots@example.com"


async def test_every_answer_is_shown_to_the_listener_with_its_headers_as_spelled(
    client: SendGridClient, emulator: Emulator, replies: list[Reply]
) -> None:
    emulator.faults.add(FaultRule(kind="status", template="GET /v3/scopes", status=503, times=1))

    await client.scopes()

    assert [reply.status for reply in replies] == [503, 200]
    names = {name for reply in replies for name in reply.wire_names}
    assert "X-Ratelimit-Remaining" in names
    assert "X-RateLimit-Remaining" not in names
