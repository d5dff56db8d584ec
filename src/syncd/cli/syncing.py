"""`syncd sync NAME`: export one destination now (the "export on demand")."""

from __future__ import annotations

import argparse
import asyncio

from syncd.cli.common import BAD_USAGE_OR_SETTINGS, add_common, settings_from
from syncd.cli.local import find_destination, reconcile_once
from syncd.cli.remote import sync_through_daemon
from syncd.cli.reports import ProgressLine, run_text
from syncd.errors import LedgerConflict
from syncd.ledger import open_ledger
from syncd.settings import Settings

EXIT_CODES = {
    0: "the sync succeeded",
    1: "the sync failed or a guard stopped it (the reason is printed), or the destination "
    "is unknown or invalid",
    2: BAD_USAGE_OR_SETTINGS,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the destination's metadata.name")
    parser.add_argument(
        "--allow-removals",
        action="store_true",
        help="confirm removals the guard held back (empty segment, large shrink)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="with a running daemon: how long to wait for its run (default 3600)",
    )
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        ledger = open_ledger(settings.state)
    except LedgerConflict:  # a daemon owns the ledger: ask it to run
        return _through_daemon(settings, args)
    loaded = find_destination(settings, args.name)
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


def _through_daemon(settings: Settings, args: argparse.Namespace) -> int:
    print(f"{args.name}: a running daemon owns {settings.state}; asking it to sync now…")
    status = asyncio.run(
        sync_through_daemon(
            settings, args.name, allow_removals=args.allow_removals, patience=args.timeout
        )
    )
    last = status.get("lastRun") or {}
    counts = last.get("counts", {})
    print(
        f"{args.name}: {last.get('outcome')} · upserted {counts.get('upserted', 0):,} · removed "
        f"{counts.get('removed', 0):,} · unchanged {counts.get('unchanged', 0):,} · rejected "
        f"{counts.get('rejected', 0):,}"
        + (f" · forgotten {counts['forgotten']:,}" if counts.get("forgotten") else "")
    )
    if last.get("error"):
        print(f"  {last['error']}")
    return 0 if last.get("outcome") == "success" else 1
