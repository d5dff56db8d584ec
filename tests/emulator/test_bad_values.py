"""Bad values: refused up front for the whole upsert (strict), or rejected inside the job."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from syncd.emulator import Emulator, EmulatorConfig
from tests.emulator.helpers import call, errors_file, settled_job, upsert
from tests.fixtures_emulator import default_emulator_config

TIER, ORDERS, SIGNUP = "e1_T", "e2_N", "e3_D"
SIGNUP_FIELD = {"name": "signup", "field_type": "Date"}


def config(**knobs: object) -> EmulatorConfig:
    fields = [*default_emulator_config().custom_fields, SIGNUP_FIELD]
    return default_emulator_config(custom_fields=fields, **knobs)


def custom_error(index: int, field_id: str, reason: str) -> dict[str, str]:
    return {
        "field": f"contacts[{index}].custom_fields.{field_id}",
        "message": f"invalid value for custom field {field_id}: {reason}",
    }


async def put(client: aiohttp.ClientSession, contacts: list[dict[str, Any]]) -> tuple[int, Any]:
    return await call(client, "PUT", "/v3/marketing/contacts", json={"contacts": contacts})


class TestUpFront:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return config(profile="strict")

    async def test_an_upsert_with_bad_values_is_refused_whole_naming_each_problem(
        self, client: aiohttp.ClientSession, emulator: Emulator
    ) -> None:
        status, answer = await put(
            client,
            [
                {"email": "ok@example.com", "custom_fields": {ORDERS: 3, SIGNUP: "01/31/2024"}},
                {"email": "not an email", "first_name": "x" * 51},
                {"email": "n@example.com", "custom_fields": {ORDERS: "3", SIGNUP: "2024-01-31"}},
                {"email": "t@example.com", "custom_fields": {TIER: "x" * 1001, ORDERS: 2**53 + 1}},
                {"email": "d@example.com", "custom_fields": {ORDERS: "", SIGNUP: ""}},
            ],
        )
        assert status == 400
        not_a_number = "expected a Number: a JSON number, not a string"
        not_a_date = "expected a Date as MM/DD/YYYY"
        assert answer["errors"] == [
            {"field": "contacts[1].email", "message": "invalid email"},
            {
                "field": "contacts[1].first_name",
                "message": "first_name exceeds the maximum length of 50",
            },
            custom_error(2, ORDERS, not_a_number),
            custom_error(2, SIGNUP, not_a_date),
            custom_error(3, TIER, "a Text value is at most 1000 bytes of UTF-8"),
            custom_error(3, ORDERS, "a Number integer must be within +/-9007199254740992"),
            custom_error(4, ORDERS, not_a_number),
            custom_error(4, SIGNUP, not_a_date),
        ]
        assert emulator.jobs == {}

    async def test_unknown_custom_field_ids_refuse_the_whole_upsert_blaming_no_contact(
        self, client: aiohttp.ClientSession, emulator: Emulator
    ) -> None:
        status, answer = await put(
            client,
            [
                {"email": "a@example.com", "custom_fields": {"e9_T": "x", ORDERS: "bad"}},
                {"email": "not an email"},
                {"email": "b@example.com", "custom_fields": {"e7_N": 1, "e9_T": "y"}},
            ],
        )
        assert (status, answer) == (
            400,
            {
                "errors": [
                    {"field": None, "message": "invalid custom field ids supplied - e9_T,e7_N"}
                ]
            },
        )
        assert emulator.jobs == {}

    async def test_an_upsert_whose_values_all_fit_is_accepted(
        self, client: aiohttp.ClientSession, emulator: Emulator
    ) -> None:
        job_id = await upsert(
            client,
            [
                {
                    "email": "fit@example.com",
                    "first_name": "x" * 50,
                    "custom_fields": {TIER: "é" * 500, ORDERS: -(2**53), SIGNUP: "02/29/2024"},
                }
            ],
        )
        assert (await settled_job(client, emulator, job_id))["status"] == "completed"
        stored = emulator.state.contact("fit@example.com")
        assert stored is not None
        assert stored["custom_fields"] == {TIER: "é" * 500, ORDERS: -(2**53), SIGNUP: "02/29/2024"}


class TestInTheJobWithStrictValueRules:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return config(custom_value_rules="strict")

    async def test_bad_values_reject_their_contacts_in_the_job(
        self, client: aiohttp.ClientSession, emulator: Emulator
    ) -> None:
        job_id = await upsert(
            client,
            [
                {"email": "ok@example.com", "custom_fields": {ORDERS: 3}},
                {"email": "n@example.com", "custom_fields": {ORDERS: "3"}},
            ],
        )
        finished = await settled_job(client, emulator, job_id)
        assert (finished["status"], finished["results"]["errored_count"]) == ("errored", 1)
        assert await errors_file(finished["results"]["errors_url"]) == [
            {
                "email": "n@example.com",
                "error": f"invalid value for custom field {ORDERS}: "
                "expected a Number: a JSON number, not a string",
            }
        ]


class TestNullValues:
    @pytest.fixture(params=["upfront", "in_job"])
    def emulator_config(self, request: pytest.FixtureRequest) -> EmulatorConfig:
        return config(bad_values=request.param)

    async def test_null_custom_values_refuse_the_whole_upsert_in_every_mode(
        self, client: aiohttp.ClientSession, emulator: Emulator
    ) -> None:
        status, answer = await put(
            client,
            [
                {"email": "a@example.com", "custom_fields": {TIER: None}},
                {"email": "b@example.com", "custom_fields": {TIER: "ok", ORDERS: None}},
            ],
        )
        null = "a custom field value may not be null"
        assert (status, answer["errors"]) == (
            400,
            [
                {"field": f"contacts[0].custom_fields.{TIER}", "message": null},
                {"field": f"contacts[1].custom_fields.{ORDERS}", "message": null},
            ],
        )
        assert emulator.jobs == {}
