"""`syncd plan NAME`: what a sync would do, without writing anything to SendGrid.

Exit status like `flux diff`: 0 no changes, 2 changes, 1 error. Only read
requests reach SendGrid (the list, the custom field definitions); the ledger is
opened read-only, so a running daemon is not disturbed.
"""

from __future__ import annotations

import argparse
import asyncio

from syncd.cli.common import add_common, settings_from
from syncd.cli.local import find_destination, reconcile_once
from syncd.cli.reports import has_changes, plan_text
from syncd.ledger import open_ledger


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the destination's metadata.name")
    parser.add_argument(
        "--allow-removals",
        action="store_true",
        help="plan as `syncd sync NAME --allow-removals` would run",
    )
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    loaded = find_destination(settings, args.name)
    ledger = open_ledger(settings.state, writer=False)
    try:
        report = asyncio.run(
            reconcile_once(
                settings, ledger, loaded, dry_run=True, allow_removals=args.allow_removals
            )
        )
    finally:
        ledger.close()
    print(plan_text(report))
    if report.outcome != "success" or report.plan is None:
        return 1
    return 2 if has_changes(report) else 0
