"""The instruments themselves: the audit, the rate-limit check and the leak check each
catch what they are meant to catch, on a SendGrid client that misbehaves on purpose."""

from __future__ import annotations

import aiohttp
import orjson
import pytest

from syncd.emulator import EmulatorConfig, FaultRule
from tests.guarantees.harness import (
    API_KEY,
    LIST_ID,
    UPSERT,
    Scene,
    harness_config,
    rate_limit_violations,
)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return harness_config(job_delay=5)


@pytest.fixture
def scene_size() -> int:
    return 3


async def put(scene: Scene, http: aiohttp.ClientSession, last_name: str) -> str:
    contacts = [
        {
            "email": email.lower(),
            "first_name": p.first,
            "last_name": last_name,
            "custom_fields": {"e1_T": p.tier},
        }
        for email, p in scene.segment.people.items()
    ]
    async with http.put(
        f"{scene.emulator.url}/v3/marketing/contacts",
        data=orjson.dumps({"list_ids": [LIST_ID], "contacts": contacts}),
        headers={"Authorization": f"Bearer {API_KEY}"},
    ) as reply:
        body = await reply.json()
    return str(body["job_id"])


async def poll(scene: Scene, http: aiohttp.ClientSession, job_id: str) -> None:
    url = f"{scene.emulator.url}/v3/marketing/contacts/imports/{job_id}"
    async with http.get(url, headers={"Authorization": f"Bearer {API_KEY}"}) as reply:
        await reply.read()


async def test_the_audit_sees_lost_extra_overlapping_redundant_and_unnecessary_sends(
    scene: Scene,
) -> None:
    s = scene
    async with aiohttp.ClientSession() as http:
        first = await put(s, http, "old")
        await put(s, http, "new")  # a new value while the old one is still in flight: overlap
        await put(s, http, "new")  # the same again before knowing: redundant
        await s.emulator.settle()
        await poll(s, http, first)
        await poll(s, http, s.emulator.requests[-2].job_id or "")
        await put(s, http, "new")  # known to be applied, sent anyway: unnecessary
    result = await s.audit()
    assert len(result.lost) == 3  # the segment says otherwise
    assert result.overlaps == {e.lower() for e in s.segment.people}
    assert (result.redundant, result.unnecessary) == (3, 3)
    assert len(result.redundant_requests) == len(result.unnecessary_requests) == 1

    s.segment.remove(1)
    assert len((await s.audit()).extra) == 1


async def test_the_rate_limit_check_sees_a_request_sent_before_the_reset(scene: Scene) -> None:
    s = scene
    s.emulator.faults.add(FaultRule(kind="rate_limit_storm", template=UPSERT, times=2, seconds=30))
    async with aiohttp.ClientSession() as http:
        for _ in range(2):
            async with http.put(
                f"{s.emulator.url}/v3/marketing/contacts",
                data=b'{"contacts": [{"email": "a@example.com"}]}',
                headers={"Authorization": f"Bearer {API_KEY}"},
            ) as reply:
                assert reply.status == 429
    assert len(rate_limit_violations(s.emulator)) == 1


async def test_the_leak_check_sees_a_key_or_an_address_in_any_case(scene: Scene) -> None:
    s = scene
    assert s.leaks() == []
    s.texts.append("contact GUARANTEE.PERSON2@EXAMPLE.COM was rejected")
    s.texts.append(f"Authorization: Bearer {API_KEY}")
    assert set(s.leaks()) == {"Guarantee.Person2@Example.com", API_KEY, API_KEY.split(".", 2)[2]}
    s.texts.clear()
