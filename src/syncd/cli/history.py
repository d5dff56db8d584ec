"""`syncd history NAME`: the destination's last runs, newest first (trigger, start, duration,
outcome, counts, error), from the daemon when one holds the ledger, else from the ledger.

`--output json` prints `syncd.shapes.RunHistory`, as `GET /v1/destinations/NAME/runs`
answers it. The ledger keeps SYNCD_KEEP_RUNS runs per destination.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from syncd.cli.common import (
    BAD_USAGE_OR_SETTINGS,
    add_common,
    add_output,
    settings_from,
)
from syncd.cli.remote import find_daemon, get_json
from syncd.cli.status import unknown
from syncd.cli.status_text import history_table
from syncd.ledger import open_ledger
from syncd.loading import load_directory
from syncd.scheduling import history_shape
from syncd.settings import Settings
from syncd.shapes import RunHistory

EXIT_CODES = {
    0: "shown",
    1: "no destination of that name, or the ledger cannot be read",
    2: BAD_USAGE_OR_SETTINGS,
}


MAX_RUNS = 1000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the destination's metadata.name")
    parser.add_argument(
        "--limit",
        type=_how_many,
        default=20,
        metavar="N",
        help="how many runs, 1 to 1000 (default 20)",
    )
    add_output(parser)
    add_common(parser)


def _how_many(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_RUNS:
        raise argparse.ArgumentTypeError(f"{value} runs: ask for 1 to {MAX_RUNS}")
    return value


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    limit: int = args.limit
    base = asyncio.run(find_daemon(settings))
    if base is not None:
        code, body = asyncio.run(get_json(base, f"/v1/destinations/{args.name}/runs?limit={limit}"))
        if code == 404:
            return unknown(args.name, "see `syncd status`", args.output, command="history")
        history = RunHistory.model_validate(body)
    else:
        found = _from_ledger(settings, args.name, limit)
        if found is None:
            return unknown(args.name, "see `syncd status`", args.output, command="history")
        history = found
    print(json.dumps(history.wire(), indent=2) if args.output == "json" else history_table(history))
    return 0


def _from_ledger(settings: Settings, name: str, limit: int) -> RunHistory | None:
    ledger = open_ledger(settings.state, writer=False)
    try:
        runs = ledger.runs(name, limit=limit)
    finally:
        ledger.close()
    if (
        not runs
        and name not in load_directory(settings.destinations, settings.allowlists()).destinations
    ):
        return None
    return RunHistory(destination=name, runs=[history_shape(r) for r in runs])
