"""Bearer keys with scopes; 401 and 403 bodies as SendGrid sends them."""

from __future__ import annotations

import aiohttp
import pytest

from syncd.emulator import Emulator, EmulatorConfig, running_emulator
from tests.emulator.helpers import call
from tests.fixtures_emulator import TEST_API_KEY, default_emulator_config

READ_ONLY_KEY = "SG.read-only"


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    keys = {TEST_API_KEY: default_emulator_config().api_keys[TEST_API_KEY]}
    return default_emulator_config(api_keys={**keys, READ_ONLY_KEY: {"marketing.read"}})


async def answer_for(
    emulator: Emulator, headers: dict[str, str], method: str = "GET", path: str = "/v3/scopes"
) -> tuple[int, object]:
    async with aiohttp.ClientSession(base_url=emulator.url, headers=headers) as session:
        return await call(session, method, path)


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer"}, {"Authorization": f"Basic {TEST_API_KEY}"}]
)
async def test_a_request_without_a_bearer_key_is_a_401(
    emulator: Emulator, headers: dict[str, str]
) -> None:
    status, body = await answer_for(emulator, headers)
    assert status == 401
    assert body == {"errors": [{"field": None, "message": "authorization required"}]}


async def test_an_unknown_key_is_a_401_saying_the_grant_is_invalid(emulator: Emulator) -> None:
    status, body = await answer_for(emulator, {"Authorization": "Bearer SG.who-is-this"})
    assert status == 401
    message = "The provided authorization grant is invalid, expired, or revoked"
    assert body == {"errors": [{"field": None, "message": message}]}


async def test_a_key_without_the_needed_scope_is_a_403(
    emulator: Emulator, client: aiohttp.ClientSession
) -> None:
    headers = {"Authorization": f"Bearer {READ_ONLY_KEY}"}
    status, _ = await answer_for(emulator, headers, "GET", "/v3/marketing/lists")
    assert status == 200
    status, body = await answer_for(emulator, headers, "DELETE", "/v3/marketing/contacts?ids=x")
    assert status == 403
    assert body == {"errors": [{"field": None, "message": "access forbidden"}]}
    assert emulator.jobs == {}


async def test_the_scopes_endpoint_returns_the_keys_scopes(emulator: Emulator) -> None:
    status, body = await answer_for(emulator, {"Authorization": f"Bearer {READ_ONLY_KEY}"})
    assert (status, body) == (200, {"scopes": ["marketing.read"]})


async def test_with_no_keys_configured_any_key_has_every_scope() -> None:
    async with running_emulator(EmulatorConfig()) as emulator:
        status, body = await answer_for(emulator, {"Authorization": "Bearer anything"})
        assert status == 200
        assert isinstance(body, dict)
        assert "marketing_campaigns.delete" in body["scopes"]
        status, _ = await answer_for(emulator, {})
        assert status == 401
