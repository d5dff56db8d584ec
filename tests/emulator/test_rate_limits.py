"""Per-endpoint rate limits: headers on every answer, 429 when exhausted, nothing applied."""

from __future__ import annotations

import aiohttp
import pytest

from syncd.emulator import Emulator, EmulatorConfig, RateBudget
from tests.emulator.helpers import FakeWallClock, call
from tests.fixtures_emulator import default_emulator_config

CLOCK_START = 1_700_000_000.0


@pytest.fixture
def wall_clock() -> FakeWallClock:
    return FakeWallClock(CLOCK_START)


@pytest.fixture
def emulator_config(wall_clock: FakeWallClock) -> EmulatorConfig:
    return default_emulator_config(
        wall_clock=wall_clock,
        rate_limit=RateBudget(limit=3, window=10),
        endpoint_rate_limits={"POST /v3/marketing/lists": RateBudget(limit=1, window=60)},
    )


async def rate_headers(
    client: aiohttp.ClientSession, method: str, path: str, json: object = None
) -> tuple[int, dict[str, int]]:
    async with client.request(method, path, json=json) as response:
        names = ("Limit", "Remaining", "Reset")
        return response.status, {n: int(response.headers[f"X-RateLimit-{n}"]) for n in names}


async def test_every_answer_carries_the_rate_limit_headers(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    expected_reset = int(CLOCK_START + 10)
    for path, status in [("/v3/scopes", 200), ("/v3/marketing/lists/nope", 404), ("/v3/nope", 404)]:
        assert await rate_headers(client, "GET", path) == (
            status,
            {"Limit": 3, "Remaining": 2, "Reset": expected_reset},
        )
    async with aiohttp.ClientSession(base_url=emulator.url) as anonymous:
        status, headers = await rate_headers(anonymous, "GET", "/v3/scopes")
    assert status == 401
    assert headers["Limit"] == 3


async def test_an_exhausted_budget_answers_429_until_the_window_resets(
    client: aiohttp.ClientSession, wall_clock: FakeWallClock
) -> None:
    for remaining in (2, 1, 0):
        status, headers = await rate_headers(client, "GET", "/v3/scopes")
        assert (status, headers["Remaining"]) == (200, remaining)
    status, answer = await call(client, "GET", "/v3/scopes")
    assert status == 429
    assert answer == {"errors": [{"field": None, "message": "too many requests"}]}
    wall_clock.advance(10)
    status, headers = await rate_headers(client, "GET", "/v3/scopes")
    assert (status, headers["Remaining"], headers["Reset"]) == (200, 2, int(CLOCK_START + 20))


async def test_budgets_are_per_endpoint_and_a_refused_request_is_not_applied(
    client: aiohttp.ClientSession, emulator: Emulator
) -> None:
    status, headers = await rate_headers(
        client, "POST", "/v3/marketing/lists", json={"name": "first"}
    )
    assert (status, headers["Limit"], headers["Remaining"]) == (201, 1, 0)
    status, _ = await rate_headers(client, "POST", "/v3/marketing/lists", json={"name": "second"})
    assert status == 429
    assert [found.name for found in emulator.state.lists.values()] == ["syncd-test", "first"]
    assert (await rate_headers(client, "GET", "/v3/marketing/lists"))[0] == 200


async def test_budgets_are_per_api_key(emulator: Emulator, client: aiohttp.ClientSession) -> None:
    for _ in range(3):
        await call(client, "GET", "/v3/scopes")
    async with aiohttp.ClientSession(
        base_url=emulator.url, headers={"Authorization": "Bearer SG.someone-else"}
    ) as other:
        status, headers = await rate_headers(other, "GET", "/v3/scopes")
    assert (status, headers["Remaining"]) == (401, 2)


class TestWithSendGridsHeaderSpelling:
    @pytest.fixture
    def emulator_config(self, wall_clock: FakeWallClock) -> EmulatorConfig:
        return default_emulator_config(wall_clock=wall_clock, rate_limit_header_case="sendgrid")

    async def test_the_headers_go_on_the_wire_spelled_x_ratelimit(
        self, client: aiohttp.ClientSession
    ) -> None:
        async with client.get("/v3/scopes") as response:
            names = [name for name, _ in response.raw_headers if name.lower().startswith(b"x-")]
        assert names == [b"X-Ratelimit-Limit", b"X-Ratelimit-Remaining", b"X-Ratelimit-Reset"]


async def test_by_default_the_headers_go_on_the_wire_spelled_x_ratelimit_in_camel_case(
    client: aiohttp.ClientSession,
) -> None:
    async with client.get("/v3/scopes") as response:
        names = [name for name, _ in response.raw_headers if name.lower().startswith(b"x-")]
    assert names == [b"X-RateLimit-Limit", b"X-RateLimit-Remaining", b"X-RateLimit-Reset"]
