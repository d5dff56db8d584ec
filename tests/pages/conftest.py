"""The page tests are synchronous: Playwright's sync API runs its own event loop."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_leaked_tasks() -> None:
    """Replaces the suite's asyncio check: these tests start no asyncio task of their own,
    and an async fixture cannot run beside Playwright's loop."""
