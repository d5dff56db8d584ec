"""`syncd run [--once]`: the daemon (or one pass over every destination)."""

from __future__ import annotations

import argparse
import asyncio

from syncd.cli.common import add_common, settings_from
from syncd.daemon import run_daemon, run_once


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--once",
        action="store_true",
        help="reconcile every destination once and exit; non-zero if any failed",
    )
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    return asyncio.run(run_once(settings) if args.once else run_daemon(settings))
