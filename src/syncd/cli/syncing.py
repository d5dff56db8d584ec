"""`syncd sync NAME`: export one destination now (the "export on demand")."""

from __future__ import annotations

import argparse
import asyncio

from syncd.cli.common import add_common, settings_from
from syncd.cli.local import find_destination, reconcile_once
from syncd.cli.reports import ProgressLine, run_text
from syncd.ledger import open_ledger


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the destination's metadata.name")
    parser.add_argument(
        "--allow-removals",
        action="store_true",
        help="confirm removals the guard held back (empty segment, large shrink)",
    )
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    loaded = find_destination(settings, args.name)
    ledger = open_ledger(settings.state)
    progress = ProgressLine(args.name)
    try:
        report = asyncio.run(
            reconcile_once(
                settings,
                ledger,
                loaded,
                dry_run=False,
                allow_removals=args.allow_removals,
                progress=progress,
            )
        )
    finally:
        progress.close()
        ledger.close()
    print(run_text(report))
    return 0 if report.outcome == "success" else 1
