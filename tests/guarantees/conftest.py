"""Fixtures of the guarantee suite: the emulator with the canary key, and a scene per test.

Every scene is checked for leaks when its test ends: no text syncd printed or served
may carry the canary API key, the canary DSN password or an address of the segment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from syncd.emulator import Emulator, EmulatorConfig
from tests.guarantees.harness import Scene, harness_config, seed


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return harness_config()


@pytest.fixture
def scene_size() -> int:
    return 100


@pytest.fixture
async def scene(tmp_path: Path, emulator: Emulator, scene_size: int) -> AsyncIterator[Scene]:
    built = Scene(tmp_path, emulator, size=scene_size, seed=seed())
    try:
        yield built
    finally:
        await built.close()
    leaks = built.leaks()
    assert not leaks, f"secrets or addresses reached syncd's output: {leaks}"
