"""Bearer keys with scopes; 401 and 403 bodies as SendGrid sends them."""

from __future__ import annotations

import aiohttp
import pytest

from syncd.emulator import Emulator, EmulatorConfig, running_emulator
from tests.emulator.helpers import call
from tests.fixtures_emulator import TEST_API_KEY, TEST_LIST_ID, default_emulator_config

READ_ONLY_KEY = "SG.read-only"
NO_DELETE_KEY = "SG.no-delete"
NO_DELETE_SCOPES = ["marketing.read", "marketing_campaigns.create", "marketing_campaigns.update"]


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    keys = {
        TEST_API_KEY: default_emulator_config().api_keys[TEST_API_KEY],
        READ_ONLY_KEY: {"marketing.read"},
        NO_DELETE_KEY: set(NO_DELETE_SCOPES),
    }
    return default_emulator_config(api_keys=keys)


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


async def test_the_scopes_endpoint_lists_exactly_the_keys_scopes(emulator: Emulator) -> None:
    status, body = await answer_for(emulator, {"Authorization": f"Bearer {NO_DELETE_KEY}"})
    assert (status, body) == (200, {"scopes": NO_DELETE_SCOPES})


@pytest.mark.parametrize(
    "path",
    [f"/v3/marketing/lists/{TEST_LIST_ID}/contacts?contact_ids=x", "/v3/marketing/contacts?ids=x"],
)
async def test_a_key_without_the_delete_scope_may_remove_nothing(
    emulator: Emulator, path: str
) -> None:
    headers = {"Authorization": f"Bearer {NO_DELETE_KEY}"}
    status, body = await answer_for(emulator, headers, "DELETE", path)
    assert (status, body) == (403, {"errors": [{"field": None, "message": "access forbidden"}]})
    assert emulator.jobs == {}


class TestALegacyAccount:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return default_emulator_config(legacy_account=True)

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", f"/v3/marketing/lists/{TEST_LIST_ID}"),
            ("GET", "/v3/marketing/field_definitions"),
            ("PUT", "/v3/marketing/contacts"),
            ("POST", "/v3/marketing/contacts/search/emails"),
            ("DELETE", f"/v3/marketing/lists/{TEST_LIST_ID}/contacts?contact_ids=x"),
        ],
    )
    async def test_every_marketing_endpoint_answers_403(
        self, emulator: Emulator, method: str, path: str
    ) -> None:
        headers = {"Authorization": f"Bearer {TEST_API_KEY}"}
        status, body = await answer_for(emulator, headers, method, path)
        assert (status, body) == (403, {"errors": [{"field": None, "message": "access forbidden"}]})
        assert emulator.jobs == {}

    async def test_the_scopes_endpoint_still_answers_with_every_scope(
        self, emulator: Emulator
    ) -> None:
        status, body = await answer_for(emulator, {"Authorization": f"Bearer {TEST_API_KEY}"})
        assert status == 200
        assert isinstance(body, dict)
        assert "marketing_campaigns.delete" in body["scopes"]

    async def test_an_unknown_key_is_still_a_401(self, emulator: Emulator) -> None:
        headers = {"Authorization": "Bearer SG.who-is-this"}
        status, _ = await answer_for(emulator, headers, "GET", "/v3/marketing/lists")
        assert status == 401
