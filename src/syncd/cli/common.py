"""Options shared by the commands, and the settings they produce."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from syncd.settings import Settings


def add_common(parser: argparse.ArgumentParser, *, state: bool = True) -> None:
    parser.add_argument(
        "--destinations",
        type=Path,
        metavar="DIR",
        help="directory of destination files (SYNCD_DESTINATIONS, default ./destinations.d)",
    )
    if state:
        parser.add_argument(
            "--state",
            metavar="PATH|URL",
            help="ledger: SQLite path or postgresql:// URL (SYNCD_STATE, default .syncd/state.db)",
        )


def settings_from(args: argparse.Namespace) -> Settings:
    """Environment first, then whatever the command line says."""
    overrides: dict[str, Any] = {}
    for option in ("destinations", "state"):
        value = getattr(args, option, None)
        if value is not None:
            overrides[option] = value
    return Settings(**overrides)
