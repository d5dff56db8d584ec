"""The SendGrid client against the emulator over real HTTP, on fake loop time."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from syncd.clock import LoopClock
from syncd.emulator import Emulator, EmulatorConfig, FaultRule, RateBudget
from syncd.errors import SendGridRejected, SendGridUnavailable
from syncd.metrics import Metrics
from syncd.sendgrid import (
    ErrorsFileMissing,
    Job,
    RateGate,
    SendGridClient,
    SendGridHttp,
    upsert_body,
)
from syncd.sendgrid.http import come_back_at
from tests.fixtures_emulator import TEST_API_KEY, TEST_LIST_ID, strict_emulator_config

UPSERT = "PUT /v3/marketing/contacts"
GET_LIST = "GET /v3/marketing/lists/{id}"
SEARCH = "POST /v3/marketing/contacts/search/emails"
JOB = "GET /v3/marketing/contacts/imports/{id}"

pytestmark = pytest.mark.looptime


@pytest.fixture
def clock() -> LoopClock:
    return LoopClock()


@pytest.fixture
def emulator_config(clock: LoopClock) -> EmulatorConfig:
    return strict_emulator_config(
        wall_clock=clock.now,
        endpoint_rate_limits={GET_LIST: RateBudget(limit=2, window=30)},
    )


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def client_for(
    emulator: Emulator,
    http: aiohttp.ClientSession,
    clock: LoopClock,
    key: Callable[[], str] = lambda: TEST_API_KEY,
) -> SendGridClient:
    transport = SendGridHttp(
        http, emulator.url, key, RateGate(clock), Metrics(), key_hint="env SENDGRID_API_KEY"
    )
    return SendGridClient(transport)


async def wait_for(client: SendGridClient, job_id: str | object) -> Job:
    """Poll a job until it ends (the reconciler does this with its own pacing)."""
    assert isinstance(job_id, str), job_id
    while True:
        job = await client.job(job_id)
        assert job is not None
        if job.finished:
            return job
        await asyncio.sleep(0.5)


def body(*emails: str) -> bytes:
    return upsert_body(TEST_LIST_ID, [b'{"email":"%s"}' % e.encode() for e in emails])


async def test_a_429_storm_is_waited_out_and_never_retried_before_the_reset(
    emulator: Emulator, http: aiohttp.ClientSession, clock: LoopClock
) -> None:
    emulator.faults.add(FaultRule(kind="rate_limit_storm", template=UPSERT, times=3, seconds=5))
    client = client_for(emulator, http, clock)

    job = await client.upsert(body("a@example.com"))

    assert job
    puts = [r for r in emulator.requests if r.template == UPSERT]
    assert [r.status for r in puts] == [429, 429, 429, 202]
    gaps = [later.time - earlier.time for earlier, later in itertools.pairwise(puts)]
    assert all(gap >= 5 for gap in gaps), gaps


async def test_a_window_known_to_be_exhausted_holds_requests_until_it_resets(
    emulator: Emulator, http: aiohttp.ClientSession, clock: LoopClock
) -> None:
    client = client_for(emulator, http, clock)
    for _ in range(3):
        await client.get_list(TEST_LIST_ID)
    gets = [r for r in emulator.requests if r.template == GET_LIST]
    assert [r.status for r in gets] == [200, 200, 200]
    assert gets[2].time - gets[0].time >= 1  # the third waited for the next window


async def test_a_wait_for_a_window_is_told_while_it_lasts(
    emulator: Emulator, http: aiohttp.ClientSession, clock: LoopClock
) -> None:
    # What a run's progress shows while its requests wait (nothing did: the run looked
    # stuck for as long as the window).
    client = client_for(emulator, http, clock)
    gate = client.http.gate
    for _ in range(2):
        await client.get_list(TEST_LIST_ID)
    assert gate.held_until() is None
    third = asyncio.create_task(client.get_list(TEST_LIST_ID))
    await asyncio.sleep(0.5)
    held = gate.held_until()
    assert held is not None
    assert clock.now() < held <= clock.now() + 31, held
    await third
    assert gate.held_until() is None


async def test_server_errors_are_retried_then_reported_as_temporary(
    emulator: Emulator, http: aiohttp.ClientSession, clock: LoopClock
) -> None:
    emulator.faults.add(FaultRule(kind="status", template=UPSERT, status=503))
    client = client_for(emulator, http, clock)
    with pytest.raises(SendGridUnavailable, match="answered 503 5 times"):
        await client.upsert(body("a@example.com"))
    assert emulator.count_requests(template=UPSERT) == 5


async def test_a_few_server_errors_are_absorbed(
    emulator: Emulator, http: aiohttp.ClientSession, clock: LoopClock
) -> None:
    emulator.faults.add(FaultRule(kind="status", template=UPSERT, status=500, times=2))
    client = client_for(emulator, http, clock)
    assert await client.upsert(body("a@example.com"))


async def test_a_wrong_key_is_named_by_where_it_comes_from_never_by_value(
    emulator: Emulator, http: aiohttp.ClientSession, clock: LoopClock
) -> None:
    wrong = "SG.wrong-key-wrong-key-w.0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
    client = client_for(emulator, http, clock, key=lambda: wrong)
    with pytest.raises(SendGridRejected) as caught:
        await client.get_list(TEST_LIST_ID)
    assert caught.value.status == 401
    assert "env SENDGRID_API_KEY is wrong, expired or revoked" in caught.value.message
    assert wrong not in caught.value.message


async def test_a_rotated_key_is_read_again_after_a_401(
    emulator: Emulator, http: aiohttp.ClientSession, clock: LoopClock
) -> None:
    keys = iter(["SG.old-old-old-old-old.0123456789abcdefghijklmnopqrstuvw", TEST_API_KEY])
    client = client_for(emulator, http, clock, key=lambda: next(keys))
    info = await client.get_list(TEST_LIST_ID)
    assert info.id == TEST_LIST_ID


async def test_a_key_without_the_scope_says_what_access_to_grant(
    emulator_config: EmulatorConfig, http: aiohttp.ClientSession, clock: LoopClock
) -> None:
    from syncd.emulator import running_emulator

    limited = emulator_config.model_copy(
        update={"api_keys": {TEST_API_KEY: frozenset({"marketing.read"})}}
    )
    async with running_emulator(limited) as emulator:
        client = client_for(emulator, http, clock)
        with pytest.raises(SendGridRejected) as caught:
            await client.upsert(body("a@example.com"))
    assert caught.value.status == 403
    assert "may not call PUT /v3/marketing/contacts" in caught.value.message
    assert "marketing_campaigns" in caught.value.message


async def test_a_request_applied_then_cut_off_is_sent_again_once(
    emulator: Emulator, http: aiohttp.ClientSession, clock: LoopClock
) -> None:
    emulator.faults.add(FaultRule(kind="reset_after_apply", template=UPSERT, times=1))
    client = client_for(emulator, http, clock)
    job = await client.upsert(body("a@example.com"))
    puts = [r for r in emulator.requests if r.template == UPSERT]
    assert [r.status for r in puts] == [None, 202]
    assert puts[1].job_id == job


async def test_jobs_are_polled_to_the_end_and_their_errors_read(
    emulator: Emulator, http: aiohttp.ClientSession, clock: LoopClock
) -> None:
    emulator.faults.add(
        FaultRule(kind="job_errored", template=UPSERT, emails=["b@example.com"], times=1)
    )
    client = client_for(emulator, http, clock)
    job_id = await client.upsert(body("a@example.com", "b@example.com", "c@example.com"))
    job = await wait_for(client, job_id)
    assert (job.status, job.errored_count) == ("errored", 1)
    assert job.errors_url
    listed = await client.job_errors(job.errors_url)
    assert listed is not None
    assert (list(listed.rejected), listed.rows) == (["b@example.com"], 1)

    # Once its link has expired (a signed link answers 403), the file is missing: how long
    # to wait for it is the caller's to decide.
    emulator.services.behaviour = emulator.services.behaviour.changed({"errors_file_expired": True})
    with pytest.raises(ErrorsFileMissing, match="answered 403"):
        await client.job_errors(job.errors_url)

    # An address in an answer is untrusted: only https (or loopback http beside a loopback
    # API, as here) is fetched; anything else counts as gone without a request (asked, the
    # first would wait for its connection to time out).
    for elsewhere in ("http://169.254.169.254/latest/meta-data", "ftp://x.example.com/e.csv"):
        assert await client.errors_file(elsewhere) is None


async def test_an_unknown_job_is_reported_as_none(
    emulator: Emulator, http: aiohttp.ClientSession, clock: LoopClock
) -> None:
    client = client_for(emulator, http, clock)
    assert await client.job("0c9a4f0e-9a1b-4c43-8d5e-3a2b1c0d9e8f") is None


async def test_the_states_of_many_jobs_come_four_at_once_in_the_order_asked(
    emulator: Emulator, http: aiohttp.ClientSession, clock: LoopClock
) -> None:
    client = client_for(emulator, http, clock)
    ids = [await client.upsert(body(f"p{n}@example.com")) for n in range(6)]
    assert all(isinstance(job_id, str) for job_id in ids)
    for job_id in ids:
        await wait_for(client, job_id)
    unknown = "0c9a4f0e-9a1b-4c43-8d5e-3a2b1c0d9e8f"
    asked = [*ids[3:], unknown, *ids[:3]]
    emulator.faults.add(FaultRule(kind="delay", template=JOB, seconds=1.0))
    loop = asyncio.get_running_loop()
    started = loop.time()
    states = await client.jobs([str(job_id) for job_id in asked])
    assert 2.0 <= loop.time() - started < 2.5  # seven polls of a second, four at a time
    assert [state.id if state else None for state in states] == [*ids[3:], None, *ids[:3]]
    assert all(state.status == "completed" for state in states if state)


async def test_emails_are_searched_a_hundred_at_a_time(
    emulator: Emulator, http: aiohttp.ClientSession, clock: LoopClock
) -> None:
    client = client_for(emulator, http, clock)
    everyone = [f"p{n}@example.com" for n in range(250)]
    job = await client.upsert(body(*everyone[:200]))
    await wait_for(client, job)
    found = await client.lookup(everyone)
    assert list(found.found) == everyone[:200]  # in the order asked
    assert emulator.count_requests(template="POST /v3/marketing/contacts/search/emails") == 3


async def test_a_lookup_of_many_addresses_runs_four_searches_at_once(
    emulator: Emulator, http: aiohttp.ClientSession, clock: LoopClock
) -> None:
    client = client_for(emulator, http, clock)
    everyone = [f"p{n}@example.com" for n in range(1_000)]
    job = await client.upsert(body(*everyone[::2]))
    await wait_for(client, job)
    emulator.faults.add(FaultRule(kind="delay", template=SEARCH, seconds=1.0))
    loop = asyncio.get_running_loop()
    started = loop.time()
    found = await client.lookup(everyone)
    assert 3.0 <= loop.time() - started < 3.5  # ten searches of a second, four at a time
    assert list(found.found) == everyone[::2]


async def test_a_lookup_whose_search_fails_raises_that_error(
    emulator: Emulator, http: aiohttp.ClientSession, clock: LoopClock
) -> None:
    emulator.faults.add(FaultRule(kind="status", template=SEARCH, status=503))
    client = client_for(emulator, http, clock)
    with pytest.raises(SendGridUnavailable):
        await client.lookup([f"p{n}@example.com" for n in range(500)])


@pytest.mark.slow
async def test_a_large_body_cut_off_after_being_applied_arrives_whole(
    emulator: Emulator, http: aiohttp.ClientSession, clock: LoopClock
) -> None:
    emulator.faults.add(FaultRule(kind="reset_after_apply", template=UPSERT, times=2))
    client = client_for(emulator, http, clock)
    everyone = [f"someone.with.a.long.address.{n}@example.com" for n in range(30_000)]
    sent = body(*everyone)
    assert len(sent) > 1_000_000
    job = await client.upsert(sent)
    await wait_for(client, job)
    assert emulator.state.list_members(TEST_LIST_ID) == set(everyone)
    puts = [r for r in emulator.requests if r.template == UPSERT]
    assert [r.contact_count for r in puts] == [30_000] * len(puts)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-RateLimit-Reset": "1800000060"}, 1_800_000_060.0),  # SendGrid's own
        ({"Retry-After": "20"}, 1_800_000_020.0),  # a proxy's, in seconds
        ({"Retry-After": "Fri, 15 Jan 2027 08:00:20 GMT"}, 1_800_000_020.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "²"}, None),  # a digit to str.isdigit, not to int()
        ({"X-RateLimit-Reset": "inf", "Retry-After": "20"}, 1_800_000_020.0),
        ({"Retry-After": "99999999999999999999"}, None),
        ({}, None),
    ],
)
def test_a_429_says_when_to_come_back_by_sendgrids_header_or_a_proxys(
    headers: dict[str, str], expected: float | None
) -> None:
    # A 429 with only Retry-After: 20 was tried again after 1, 2, 4 and 8 s.
    now = 1_800_000_000.0
    assert come_back_at(CIMultiDictProxy(CIMultiDict(headers)), now) == expected
