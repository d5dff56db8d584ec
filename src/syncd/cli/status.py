"""`syncd status [NAME] [--json]`: the last runs per destination, from the ledger."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from datetime import UTC, datetime

from syncd.cli.common import BAD_USAGE_OR_SETTINGS, add_common, settings_from
from syncd.cli.output import addresses_shown
from syncd.ledger import Ledger, open_ledger

EXIT_CODES = {
    0: "the runs were shown (or there are none yet)",
    1: "the ledger could not be read",
    2: BAD_USAGE_OR_SETTINGS,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="one destination: its recent runs")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--rejections", action="store_true", help="with NAME: the rejected rows of its last run"
    )
    add_common(parser)


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "never"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    ledger = open_ledger(settings.state, writer=False)
    try:
        if args.name:
            return _one(ledger, args)
        summaries = ledger.summaries()
    finally:
        ledger.close()
    if args.json:
        print(json.dumps([asdict(s) for s in summaries], indent=2))
        return 0
    if not summaries:
        print(f"no runs recorded in {settings.state}")
        return 0
    print(f"{'DESTINATION':<28} {'LAST RUN':<21} {'OUTCOME':<10} {'LAST SUCCESS':<21} OPEN JOBS")
    for s in summaries:
        print(
            f"{s.destination:<28} {_when(s.last_run.ended_at or s.last_run.started_at):<21} "
            f"{s.last_run.outcome or 'running':<10} {_when(s.last_success_at):<21} "
            f"{s.open_batches}"
        )
        if s.last_run.error:
            print(f"  {s.last_run.error}")
    return 0


def _one(ledger: Ledger, args: argparse.Namespace) -> int:
    runs = ledger.runs(args.name, limit=10)
    if args.rejections:
        rejections = ledger.rejections(runs[0].id, limit=10_000) if runs else []
        # The operator asked for the rows: a reason may name its address (SendGrid's do).
        with addresses_shown():
            if args.json:
                print(json.dumps([asdict(r) for r in rejections], indent=2))
            for rejection in [] if args.json else rejections:
                print(f"{rejection.segment} row {rejection.row}: {rejection.reason}")
        return 0
    if args.json:
        print(json.dumps([asdict(r) for r in runs], indent=2))
        return 0
    for r in runs:
        counts = " ".join(f"{k}={v}" for k, v in r.counts.items())
        print(f"{_when(r.started_at)} {r.trigger:<9} {r.outcome or 'running':<10} {counts}")
        if r.error:
            print(f"  {r.error}")
    return 0
