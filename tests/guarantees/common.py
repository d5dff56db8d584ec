"""Shared constants of the guarantee scenarios, the random seed, figures and the emulator config."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from syncd.emulator import ALL_SCOPES, EmulatorConfig
from syncd.emulator.profiles import PROFILE_DEFAULTS
from tests.fixtures_emulator import TEST_LIST_ID, strict_emulator_config

# A canary key, shaped like a real one ("SG." + 22 + "." + 43): it must never be printed.
API_KEY = "SG.CANARYkey-guarantees0.CANARYsecret-0123456789abcdefghijklmnopqrstu"
# A canary DSN password, for the scenarios with a PostgreSQL source.
DSN_PASSWORD = "CANARYPW-x7Qm2Lk9"
LIST_ID = TEST_LIST_ID
NAME = "members"

UPSERT = "PUT /v3/marketing/contacts"
REMOVE = "DELETE /v3/marketing/lists/{id}/contacts"
JOB = "GET /v3/marketing/contacts/imports/{id}"
TERMINAL = ("completed", "errored", "failed")
FAILPOINT_EXIT = 86
REMOVED = "<removed from the list>"

# The figures each row measured, printed and (with SYNCD_FIGURES_FILE) appended as JSON lines.
FIGURES_FILE = os.environ.get("SYNCD_FIGURES_FILE")


def seed() -> int:
    """The random seed of the randomised scenarios: SYNCD_TEST_SEED, or a fixed default."""
    return int(os.environ.get("SYNCD_TEST_SEED", "20251129"))


def record_figure(row: str, **figures: Any) -> None:
    line = json.dumps({"row": row, **figures}, sort_keys=True, default=str)
    print(f"FIGURE {line}")
    if FIGURES_FILE:
        with Path(FIGURES_FILE).open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def harness_config(**overrides: Any) -> EmulatorConfig:
    """The fixtures' account, with the canary key as the only accepted key."""
    settings: dict[str, Any] = {
        "api_keys": {API_KEY: ALL_SCOPES},
        # The strict profile's own search lag: removals wait for search to catch up.
        "search_lag": PROFILE_DEFAULTS["strict"]["search_lag"],
        **overrides,
    }
    return strict_emulator_config(**settings)
