"""`syncd run [--once]`: the daemon (or one pass over every destination)."""

from __future__ import annotations

import argparse
import asyncio

from syncd.cli.common import BAD_USAGE_OR_SETTINGS, add_common, settings_from
from syncd.daemon import run_daemon, run_once

EXIT_CODES = {
    0: "the daemon stopped after SIGTERM or SIGINT; with --once, every destination synced",
    1: "with --once, a destination failed or a file is invalid; otherwise the daemon could "
    "not go on (the ledger, the watcher)",
    2: BAD_USAGE_OR_SETTINGS + "; or the admin or metrics address cannot be listened on",
    130: "a second SIGINT ended the daemon at once, without finishing in-flight work",
    143: "a second SIGTERM ended the daemon at once, without finishing in-flight work",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--once",
        action="store_true",
        help="reconcile every destination once and exit; non-zero if any failed",
    )
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="where the admin server listens (SYNCD_LISTEN, default 127.0.0.1:9108)",
    )
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    return asyncio.run(run_once(settings) if args.once else run_daemon(settings))
