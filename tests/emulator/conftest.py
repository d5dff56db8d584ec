"""Fixtures for the emulator's own tests: an authenticated HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from syncd.emulator import Emulator, EmulatorConfig
from tests.fixtures_emulator import TEST_API_KEY, default_emulator_config


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    """The emulator's own tests start from its default (`kind`) profile; those about the
    strict profile say so."""
    return default_emulator_config()


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    """A session on the emulator's base URL that sends the test key."""
    headers = {"Authorization": f"Bearer {TEST_API_KEY}"}
    async with aiohttp.ClientSession(base_url=emulator.url, headers=headers) as session:
        yield session
