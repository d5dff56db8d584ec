"""Pytest fixtures for a SendGrid emulator served over real HTTP on 127.0.0.1.

Registered for the whole suite by `tests/conftest.py`. Override `emulator_config` in a test
module (or parametrize it) to start the emulator differently.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from syncd.emulator import (
    ALL_SCOPES,
    Emulator,
    EmulatorConfig,
    FieldSeed,
    ListSeed,
    running_emulator,
)

TEST_LIST_ID = "5b7c0e9a-3f1d-4c2b-9a8e-6d5f4c3b2a10"
TEST_LIST_NAME = "syncd-test"
# Shaped like a real key (69 characters: "SG." + 22 + "." + 43).
TEST_API_KEY = "SG.test-key-for-syncd-emu.0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"


def default_emulator_config(**overrides: object) -> EmulatorConfig:
    """The seeded account the fixtures use, in the emulator's default (`kind`) profile;
    keyword arguments replace its settings. syncd's own tests use `strict_emulator_config`."""
    settings: dict[str, object] = {
        "lists": [ListSeed(id=TEST_LIST_ID, name=TEST_LIST_NAME)],
        "custom_fields": [
            FieldSeed(name="loyalty_tier", field_type="Text"),
            FieldSeed(name="orders", field_type="Number"),
        ],
        "api_keys": {TEST_API_KEY: ALL_SCOPES},
        "record_exchanges": True,
        **overrides,
    }
    return EmulatorConfig.model_validate(settings)


def strict_emulator_config(**overrides: object) -> EmulatorConfig:
    """The account behaving as strictly as SendGrid (the `strict` profile: refusals up
    front, unpollable removal jobs, errors files in another layout, `X-Ratelimit-*`...) but
    with search up to date at once: tests of the search lag set `search_lag` (the guarantee
    suite keeps the profile's own lag)."""
    return default_emulator_config(**{"profile": "strict", "search_lag": 0.0, **overrides})


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    """syncd meets the strict profile (`strict_emulator_config`): one list (`TEST_LIST_ID`),
    the key `TEST_API_KEY` with every scope, custom fields `loyalty_tier` (Text, id `e1_T`)
    and `orders` (Number, id `e2_N`), no job delay, exchanges recorded for contract checks."""
    return strict_emulator_config()


@pytest.fixture
async def emulator(emulator_config: EmulatorConfig) -> AsyncIterator[Emulator]:
    """A running emulator on a free port of 127.0.0.1; `emulator.url` is its base URL."""
    async with running_emulator(emulator_config) as running:
        yield running
