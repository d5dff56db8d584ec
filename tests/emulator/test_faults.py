"""Every fault kind, injected from Python (the rules given as their JSON form)."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from syncd.emulator import Emulator, EmulatorConfig, FaultRule
from tests.emulator.helpers import FakeWallClock, call, errors_file, job, settled_job, upsert
from tests.fixtures_emulator import TEST_LIST_ID, default_emulator_config

Inject = Callable[[dict[str, Any]], Awaitable[None]]
UPSERT = "PUT /v3/marketing/contacts"


@pytest.fixture
def wall_clock() -> FakeWallClock:
    return FakeWallClock()


@pytest.fixture
def emulator_config(wall_clock: FakeWallClock) -> EmulatorConfig:
    return default_emulator_config(wall_clock=wall_clock)


@pytest.fixture
def inject(emulator: Emulator) -> Inject:
    """Adds a fault rule given as JSON, as a seed file or a test gives it."""

    async def from_python(rule: dict[str, Any]) -> None:
        emulator.faults.add(FaultRule.model_validate(rule))

    return from_python


async def test_a_status_fault_answers_an_error_without_applying_the_request(
    client: aiohttp.ClientSession, emulator: Emulator, inject: Inject
) -> None:
    await inject({"kind": "status", "template": UPSERT, "status": 503, "times": 2})
    body = {"contacts": [{"email": "a@example.com"}]}
    for _ in range(2):
        status, answer = await call(client, "PUT", "/v3/marketing/contacts", json=body)
        assert status == 503
        assert answer == {"errors": [{"field": None, "message": "injected fault: 503"}]}
    assert emulator.jobs == {}
    assert (await call(client, "GET", "/v3/scopes"))[0] == 200
    await upsert(client, body["contacts"])
    assert emulator.count_requests(template=UPSERT, status=503) == 2


async def test_a_rate_limit_storm_answers_429_with_a_reset_ahead(
    client: aiohttp.ClientSession, inject: Inject, wall_clock: FakeWallClock
) -> None:
    await inject({"kind": "rate_limit_storm", "times": 2, "seconds": 30})
    for path in ("/v3/scopes", "/v3/marketing/lists"):
        async with client.get(path) as response:
            assert response.status == 429
            assert response.headers["X-RateLimit-Remaining"] == "0"
            assert response.headers["X-RateLimit-Reset"] == str(int(wall_clock.now + 30))
            assert await response.json() == {
                "errors": [{"field": None, "message": "too many requests"}]
            }
    assert (await call(client, "GET", "/v3/scopes"))[0] == 200


@pytest.mark.looptime
async def test_a_rate_limit_storm_with_a_duration_lasts_that_long(
    client: aiohttp.ClientSession, inject: Inject, wall_clock: FakeWallClock
) -> None:
    await inject({"kind": "rate_limit_storm", "template": "GET /v3/scopes", "duration": 5})
    async with client.get("/v3/scopes") as response:
        assert response.status == 429
        assert response.headers["X-RateLimit-Reset"] == str(int(wall_clock.now + 5))
    await asyncio.sleep(4)
    assert (await call(client, "GET", "/v3/scopes"))[0] == 429
    await asyncio.sleep(1.5)
    assert (await call(client, "GET", "/v3/scopes"))[0] == 200


async def test_a_rate_limit_storm_with_a_negative_reset_offset_announces_a_reset_in_the_past(
    client: aiohttp.ClientSession, inject: Inject, wall_clock: FakeWallClock
) -> None:
    await inject({"kind": "rate_limit_storm", "times": 2, "seconds": 30, "reset_offset": -90})
    async with client.get("/v3/scopes") as response:
        assert response.status == 429
        assert response.headers["X-RateLimit-Reset"] == str(int(wall_clock.now - 60))
    assert (await call(client, "GET", "/v3/scopes"))[0] == 429


@pytest.mark.looptime
async def test_a_delay_fault_answers_slowly_but_normally(
    client: aiohttp.ClientSession, emulator: Emulator, inject: Inject
) -> None:
    await inject({"kind": "delay", "template": UPSERT, "seconds": 7, "times": 1})
    loop = asyncio.get_running_loop()
    before = loop.time()
    await upsert(client, [{"email": "slow@example.com"}])
    assert loop.time() - before == pytest.approx(7, abs=0.5)
    before = loop.time()
    await upsert(client, [{"email": "fast@example.com"}])
    assert loop.time() - before < 0.5
    assert len(emulator.jobs) == 2


async def test_a_reset_after_apply_fault_applies_the_request_and_drops_the_connection(
    client: aiohttp.ClientSession, emulator: Emulator, inject: Inject
) -> None:
    await inject({"kind": "reset_after_apply", "template": "POST /v3/marketing/lists", "times": 1})
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await call(client, "POST", "/v3/marketing/lists", json={"name": "made"})
    assert "made" in [found.name for found in emulator.state.lists.values()]
    assert emulator.requests[-1].status is None
    assert emulator.requests[-1].fault == "reset_after_apply"
    assert (await call(client, "GET", "/v3/scopes"))[0] == 200


async def test_aiohttp_retries_a_dropped_put_once_so_both_attempts_are_applied(
    client: aiohttp.ClientSession, emulator: Emulator, inject: Inject
) -> None:
    # aiohttp resends an idempotent request (PUT, DELETE) once when the connection drops:
    # a client on aiohttp sees the error only when the retry is dropped too.
    await inject({"kind": "reset_after_apply", "template": UPSERT, "times": 2})
    body = {"contacts": [{"email": "r@example.com"}]}
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await call(client, "PUT", "/v3/marketing/contacts", json=body)
    assert len(emulator.jobs) == 2
    await emulator.settle()
    assert [found.status for found in emulator.jobs.values()] == ["completed", "completed"]
    assert emulator.state.contact("r@example.com") is not None
    assert [record.status for record in emulator.requests] == [None, None]


async def test_a_job_errored_fault_rejects_the_named_contacts(
    client: aiohttp.ClientSession, emulator: Emulator, inject: Inject
) -> None:
    await inject({"kind": "job_errored", "emails": ["B@example.com"], "reason": "boom", "times": 1})
    job_id = await upsert(client, [{"email": "a@example.com"}, {"email": "b@example.com"}])
    finished = await settled_job(client, emulator, job_id)
    assert finished["status"] == "errored"
    assert await errors_file(finished["results"]["errors_url"]) == [
        {"email": "b@example.com", "error": "boom"}
    ]
    assert emulator.state.contact("b@example.com") is None
    again = await settled_job(client, emulator, await upsert(client, [{"email": "b@example.com"}]))
    assert again["status"] == "completed"


async def test_a_job_errored_fault_can_reject_the_first_contacts(
    client: aiohttp.ClientSession, emulator: Emulator, inject: Inject
) -> None:
    await inject({"kind": "job_errored", "count": 2})
    job_id = await upsert(client, [{"email": f"{n}@example.com"} for n in "abc"])
    finished = await settled_job(client, emulator, job_id)
    assert (finished["status"], finished["results"]["errored_count"]) == ("errored", 2)
    rows = await errors_file(finished["results"]["errors_url"])
    assert [row["error"] for row in rows] == ["injected fault", "injected fault"]


async def test_a_job_failed_fault_fails_the_job_and_applies_nothing(
    client: aiohttp.ClientSession, emulator: Emulator, inject: Inject
) -> None:
    await inject({"kind": "job_failed", "template": UPSERT, "times": 1})
    job_id = await upsert(client, [{"email": "a@example.com"}])
    finished = await settled_job(client, emulator, job_id)
    assert finished["status"] == "failed"
    assert "errors_url" not in finished["results"]
    assert emulator.state.contacts == {}


EXPORTS = "/v3/marketing/contacts/exports"


async def export_now(client: aiohttp.ClientSession) -> dict[str, Any]:
    """A new export of the test list, as its status answers after a minute (no delay)."""
    status, created = await call(client, "POST", EXPORTS, json={"list_ids": [TEST_LIST_ID]})
    assert status == 202, created
    await asyncio.sleep(60)
    status, export = await call(client, "GET", f"{EXPORTS}/{created['id']}")
    assert status == 200, export
    assert isinstance(export, dict)
    return export


@pytest.mark.looptime
async def test_an_export_stuck_fault_leaves_the_export_pending_for_good(
    client: aiohttp.ClientSession, inject: Inject
) -> None:
    await inject({"kind": "export_stuck", "times": 1})
    stuck = await export_now(client)
    await asyncio.sleep(7 * 24 * 3600)
    status, polled = await call(client, "GET", f"{EXPORTS}/{stuck['id']}")
    assert (status, polled["status"]) == (200, "pending")
    assert "urls" not in polled
    assert (await export_now(client))["status"] == "ready"


@pytest.mark.looptime
async def test_an_export_cut_short_fault_serves_each_file_without_its_second_half(
    client: aiohttp.ClientSession, emulator: Emulator, inject: Inject
) -> None:
    contacts = [{"email": f"c{n}@example.com", "first_name": f"C{n}"} for n in range(50)]
    await upsert(client, contacts, list_ids=[TEST_LIST_ID])
    await emulator.settle()
    emulator.services.behaviour = emulator.services.behaviour.changed({"export_gzip": True})
    await inject({"kind": "export_cut_short", "times": 1})
    cut = await export_now(client)
    assert (cut["status"], cut["contact_count"]) == ("ready", 50)  # counted whole
    async with aiohttp.ClientSession() as anonymous, anonymous.get(cut["urls"][0]) as got:
        data = await got.read()
    with pytest.raises(EOFError, match="end-of-stream marker"):
        gzip.decompress(data)
    whole = await export_now(client)
    async with aiohttp.ClientSession() as anonymous, anonymous.get(whole["urls"][0]) as got:
        assert gzip.decompress(await got.read()).count(b"@example.com") == 50


async def test_an_out_of_order_fault_applies_later_jobs_first(
    client: aiohttp.ClientSession, emulator: Emulator, inject: Inject
) -> None:
    await inject({"kind": "out_of_order", "template": UPSERT, "seconds": 60, "times": 1})
    first = await upsert(client, [{"email": "a@example.com", "first_name": "first"}])
    second = await upsert(client, [{"email": "a@example.com", "first_name": "second"}])
    assert (await job(client, first))["status"] == "pending"
    await emulator.settle()
    stored = emulator.state.contact("a@example.com")
    assert stored is not None
    assert stored["first_name"] == "first"
    assert (await job(client, second))["results"]["created_count"] == 1
    assert (await job(client, first))["results"]["updated_count"] == 1


@pytest.mark.looptime
async def test_out_of_order_jobs_are_held_for_the_window_then_applied_newest_first(
    client: aiohttp.ClientSession, emulator: Emulator, inject: Inject
) -> None:
    await inject({"kind": "out_of_order", "seconds": 2})
    first = await upsert(client, [{"email": "a@example.com", "first_name": "first"}])
    await upsert(client, [{"email": "a@example.com", "first_name": "second"}])
    await asyncio.sleep(1)
    assert (await job(client, first))["status"] == "pending"
    await asyncio.sleep(1.5)
    assert (await job(client, first))["status"] == "completed"
    stored = emulator.state.contact("a@example.com")
    assert stored is not None
    assert stored["first_name"] == "first"


async def test_clearing_an_out_of_order_fault_releases_held_jobs_in_order(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    emulator.faults.add(FaultRule(kind="out_of_order", seconds=3600))
    first = await upsert(client, [{"email": "a@example.com", "first_name": "first"}])
    await upsert(client, [{"email": "a@example.com", "first_name": "second"}])
    emulator.faults.clear()
    for _ in range(100):
        if not any(found.status == "pending" for found in emulator.jobs.values()):
            break
        await asyncio.sleep(0)
    assert (await job(client, first))["status"] == "completed"
    stored = emulator.state.contact("a@example.com")
    assert stored is not None
    assert stored["first_name"] == "second"


async def test_a_fault_with_probability_zero_never_fires(
    client: aiohttp.ClientSession, inject: Inject
) -> None:
    await inject({"kind": "status", "probability": 0.0})
    assert (await call(client, "GET", "/v3/scopes"))[0] == 200


@pytest.mark.looptime
async def test_a_fault_with_a_duration_ends_that_long_after_its_first_match(
    client: aiohttp.ClientSession, inject: Inject
) -> None:
    await inject({"kind": "status", "template": "GET /v3/scopes", "status": 502, "duration": 10})
    await asyncio.sleep(60)
    assert (await call(client, "GET", "/v3/scopes"))[0] == 502
    await asyncio.sleep(9)
    assert (await call(client, "GET", "/v3/scopes"))[0] == 502
    await asyncio.sleep(2)
    assert (await call(client, "GET", "/v3/scopes"))[0] == 200


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "sparks"},
        {"kind": "status", "template": "PUT /v3/marketing/contact"},
        {"kind": "status", "status": 200},
        {"kind": "status", "times": 0},
        {"kind": "job_errored"},
        {"kind": "delay", "colour": "red"},
    ],
)
def test_an_invalid_fault_rule_is_refused(rule: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        FaultRule.model_validate(rule)


@pytest.mark.parametrize("unnamed", [False, True])
async def test_a_refuse_contacts_fault_refuses_the_whole_upsert_naming_the_victims_or_nobody(
    emulator: Emulator, client: aiohttp.ClientSession, unnamed: bool
) -> None:
    emulator.faults.add(
        FaultRule(kind="refuse_contacts", emails=["B@example.com"], reason="no", unnamed=unnamed)
    )
    contacts = [{"email": "a@example.com"}, {"email": "b@example.com"}]
    status, body = await call(client, "PUT", "/v3/marketing/contacts", json={"contacts": contacts})
    assert status == 400
    expected = (
        {"field": None, "message": "no"}
        if unnamed
        else {"field": "contacts[1].email", "message": "no"}
    )
    assert body["errors"] == [expected]
    status, _ = await call(client, "PUT", "/v3/marketing/contacts", json={"contacts": contacts[:1]})
    assert status == 202  # without a victim the request goes through
