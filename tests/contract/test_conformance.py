"""Every request and every answer of a tour of all endpoints, checked against the spec."""

from __future__ import annotations

import aiohttp
import pytest

from syncd.emulator import ALL_SCOPES, Emulator, EmulatorConfig, rules
from tests.contract.strict_tour import take_the_strict_tour
from tests.contract.tour import READ_ONLY_KEY, Visit, take_the_tour
from tests.contract.validating import assert_exchanges_conform, check_exchange
from tests.fixtures_emulator import TEST_API_KEY, default_emulator_config


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    keys = {TEST_API_KEY: ALL_SCOPES, READ_ONLY_KEY: frozenset({"marketing.read"})}
    return default_emulator_config(api_keys=keys)


@pytest.fixture
async def visits(emulator: Emulator) -> list[Visit]:
    async with aiohttp.ClientSession(base_url=emulator.url) as session:
        return await take_the_tour(emulator, session)


def test_the_tour_calls_every_endpoint_the_emulator_serves(visits: list[Visit]) -> None:
    assert {visit.exchange.template for visit in visits} == set(rules.REQUIRED_SCOPES)


def test_every_answer_conforms_to_the_spec(visits: list[Visit]) -> None:
    assert_exchanges_conform([visit.exchange for visit in visits], allow_invalid_requests=True)


def test_well_formed_requests_conform_and_malformed_ones_do_not(visits: list[Visit]) -> None:
    wrong = []
    for visit in visits:
        errors = check_exchange(visit.exchange).request_errors
        if bool(errors) == visit.request_valid:
            expected = "valid" if visit.request_valid else "invalid"
            wrong.append(f"{visit.exchange.template} should be {expected}: {errors}")
    assert not wrong, "\n".join(wrong)


def test_the_tour_sees_each_kind_of_answer(visits: list[Visit]) -> None:
    statuses = {visit.exchange.status for visit in visits}
    assert {200, 201, 202, 400, 401, 403, 404, 413, 429, 500, 503, None} <= statuses


class TestTheStrictProfile:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        keys = {TEST_API_KEY: ALL_SCOPES}
        return default_emulator_config(api_keys=keys, profile="strict", search_lag=3600)

    @pytest.fixture
    async def visits(self, emulator: Emulator) -> list[Visit]:
        async with aiohttp.ClientSession(base_url=emulator.url) as session:
            return await take_the_strict_tour(emulator, session)

    def test_every_strict_answer_conforms_to_the_spec(self, visits: list[Visit]) -> None:
        assert_exchanges_conform([visit.exchange for visit in visits], allow_invalid_requests=True)

    def test_the_strict_tour_sends_malformed_requests_only_where_it_means_to(
        self, visits: list[Visit]
    ) -> None:
        wrong = [
            visit.exchange.template
            for visit in visits
            if bool(check_exchange(visit.exchange).request_errors) == visit.request_valid
        ]
        assert not wrong
