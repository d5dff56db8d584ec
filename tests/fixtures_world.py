"""The `sync_world` fixture: segment files, a destination, a ledger and the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from syncd.emulator import Emulator
from tests.reconciling.world import TEST_API_KEY, World, world


@pytest.fixture
async def sync_world(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    monkeypatch.setenv("SENDGRID_API_KEY", TEST_API_KEY)
    async with world(tmp_path, emulator) as built:
        yield built
