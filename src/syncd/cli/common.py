"""Options shared by the commands, and the settings they produce."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from syncd.errors import SyncdError
from syncd.settings import Settings
from syncd.shapes import ErrorBody, ErrorDocument


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


OutputFormat = Literal["text", "json", "markdown"]


def add_output(parser: argparse.ArgumentParser, *formats: OutputFormat) -> None:
    """`--output FORMAT`: text for people (the default), json as in syncd.shapes (the same
    objects the HTTP API answers with), markdown where a pull-request comment makes sense."""
    chosen = formats or ("text", "json")
    parser.add_argument(
        "--output",
        choices=chosen,
        default="text",
        help=f"{' | '.join(chosen)} (default text); json follows `syncd schema`",
    )


def describe_exit_codes(codes: Mapping[int, str]) -> str:
    """The `exit status` paragraph of a command's --help (each command lists all of its own)."""
    lines = ["exit status:"]
    lines += [f"  {code}  {meaning}" for code, meaning in sorted(codes.items())]
    return "\n".join(lines)


class UsageError(SyncdError):
    """Options that do not go together: the command cannot start (`cannot_start` status)."""


BAD_USAGE_OR_SETTINGS = (
    "the command line or a SYNCD_* setting is wrong (one line naming it, on stderr)"
)
"""What exit status 2 means for most commands (`plan`: 1)."""


def seconds(text: str) -> float:
    """An argparse type: a positive, finite number of seconds (`--timeout -3` waited no
    time and then said the daemon did not answer within -3s)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} seconds: give a positive number")
    return value


def error_json(error: SyncdError) -> str:
    """The error document `--output json` prints on stdout (the message also goes to stderr).
    Its code is the error's kind: `definitionError`, `sendGridUnavailable`, ..."""
    kind = type(error).__name__
    body = ErrorBody(code=kind[:1].lower() + kind[1:], message=error.message)
    return json.dumps(ErrorDocument(error=body).wire(), indent=2)


def settings_from(args: argparse.Namespace) -> Settings:
    """Environment first, then whatever the command line says."""
    overrides: dict[str, Any] = {}
    for option in ("destinations", "state", "listen"):
        value = getattr(args, option, None)
        if value is not None:
            overrides[option] = value
    return Settings(**overrides)
