"""Small helpers for talking to the emulator in tests."""

from __future__ import annotations

import csv
import io
from typing import Any

import aiohttp

from syncd.emulator import Emulator


class FakeWallClock:
    """An epoch clock that moves only when told to."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def call(
    client: aiohttp.ClientSession, method: str, path: str, **kwargs: Any
) -> tuple[int, Any]:
    """Status and JSON body (None when the body is empty or not JSON)."""
    async with client.request(method, path, **kwargs) as response:
        text = await response.text()
        is_json = response.content_type == "application/json" and text
        return response.status, (await response.json() if is_json else None)


async def upsert(
    client: aiohttp.ClientSession,
    contacts: list[dict[str, Any]],
    list_ids: list[str] | None = None,
) -> str:
    body: dict[str, Any] = {"contacts": contacts}
    if list_ids is not None:
        body["list_ids"] = list_ids
    status, answer = await call(client, "PUT", "/v3/marketing/contacts", json=body)
    assert status == 202, answer
    job_id = answer["job_id"]
    assert isinstance(job_id, str)
    return job_id


async def job(client: aiohttp.ClientSession, job_id: str) -> dict[str, Any]:
    status, answer = await call(client, "GET", f"/v3/marketing/contacts/imports/{job_id}")
    assert status == 200, answer
    assert isinstance(answer, dict)
    return answer


async def settled_job(
    client: aiohttp.ClientSession, emulator: Emulator, job_id: str
) -> dict[str, Any]:
    await emulator.settle()
    return await job(client, job_id)


async def errors_file(
    url: str, email_header: str = "email", reason_header: str = "error"
) -> list[dict[str, str]]:
    """The rows of a CSV errors_url file, fetched without credentials."""
    async with aiohttp.ClientSession() as anonymous, anonymous.get(url) as response:
        assert response.status == 200
        assert response.content_type == "text/csv"
        text = await response.text()
    assert next(csv.reader(io.StringIO(text))) == [email_header, reason_header]
    return list(csv.DictReader(io.StringIO(text)))


async def contact_ids(client: aiohttp.ClientSession, *emails: str) -> list[str]:
    status, answer = await call(
        client, "POST", "/v3/marketing/contacts/search/emails", json={"emails": list(emails)}
    )
    assert status == 200, answer
    return [answer["result"][email]["contact"]["id"] for email in emails]
