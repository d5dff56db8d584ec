"""Debian's Chromium, driven by Playwright (no browser download: the system one is used).

Without a browser the page tests skip, saying why; `.ci/run` sets
SYNCD_REQUIRE_BROWSER=1, which turns that skip into a failure.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    return (
        os.environ.get("SYNCD_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


def launch(playwright: Any) -> Any:
    """A headless Chromium, or a skip (a failure where the browser is required)."""
    path = chromium_path()
    if path is None:
        reason = "no Chromium (apt-get install chromium, or set SYNCD_CHROMIUM)"
        if os.environ.get("SYNCD_REQUIRE_BROWSER") == "1":
            pytest.fail(f"a browser is required here (SYNCD_REQUIRE_BROWSER=1): {reason}")
        pytest.skip(reason)
    return playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
