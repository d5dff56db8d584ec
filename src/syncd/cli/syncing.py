"""`syncd sync NAME`: export one destination now (the "export on demand").

With a daemon holding the ledger, the daemon runs it and the command follows the run
(a bar on a terminal, a line every few seconds otherwise) until it ends; Ctrl-C stops
following, never the run. Without one, the run happens in this process.
`--output json` prints the destination's status after the run (`syncd schema --status`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

from syncd.cli.common import (
    BAD_USAGE_OR_SETTINGS,
    add_common,
    add_output,
    seconds,
    settings_from,
)
from syncd.cli.following import Follower
from syncd.cli.local import find_destination, reconcile_once
from syncd.cli.remote import find_daemon, local_ledger, no_daemon, sync_through_daemon
from syncd.cli.reports import in_flight_line, run_text, waiting_lines
from syncd.clock import SYSTEM_CLOCK
from syncd.ledger import Ledger
from syncd.loading import LoadedDestination
from syncd.reconciling import RunProgress, RunReport
from syncd.settings import Settings

EXIT_CODES = {
    0: "the run succeeded",
    1: "the run failed or a guard stopped it (the reason is printed), or the destination "
    "is unknown or invalid",
    2: BAD_USAGE_OR_SETTINGS,
    130: "interrupted: a local run stops; a run in the daemon goes on, no longer followed",
}
FOLLOW_EVERY = 0.5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the destination's metadata.name")
    parser.add_argument(
        "--allow-removals",
        action="store_true",
        help="confirm removals the guard held back (empty segment, large shrink)",
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=3600.0,
        metavar="SECONDS",
        help="with a running daemon: how long to follow its run (default 3600)",
    )
    add_output(parser)
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    ledger = local_ledger(settings, keep_runs=settings.keep_runs)
    if ledger is None:  # a daemon holds the ledger: ask it to run
        return _through_daemon(settings, args)
    loaded = find_destination(settings, args.name)
    live = RunProgress(SYSTEM_CLOCK)
    follower = Follower(args.name)
    try:
        report = asyncio.run(_local(settings, ledger, loaded, args.allow_removals, live, follower))
    except KeyboardInterrupt:
        follower.close()
        print(f"\n{args.name}: interrupted; the next run carries on from here", file=sys.stderr)
        return 130
    finally:
        follower.close()
        ledger.close()
    if args.output == "json":
        _print_status(settings, args.name)
    else:
        print(run_text(report))
    return 0 if report.outcome == "success" else 1


async def _local(
    settings: Settings,
    ledger: Ledger,
    loaded: LoadedDestination,
    allow_removals: bool,
    live: RunProgress,
    follower: Follower,
) -> RunReport:
    async with _drawing(live, follower):
        return await reconcile_once(
            settings, ledger, loaded, dry_run=False, allow_removals=allow_removals, live=live
        )


@contextlib.asynccontextmanager
async def _drawing(live: RunProgress, follower: Follower) -> AsyncIterator[None]:
    async def draw() -> None:
        while True:
            await asyncio.sleep(FOLLOW_EVERY)
            follower(live.shape().wire())

    task = asyncio.create_task(draw(), name="sync:progress")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _through_daemon(settings: Settings, args: argparse.Namespace) -> int:
    base = asyncio.run(find_daemon(settings))
    if base is None:
        raise no_daemon(settings)
    follower = Follower(args.name)

    def follow(status: dict[str, Any]) -> None:
        follower(status.get("progress"))

    def accepted(answer: dict[str, Any]) -> None:
        # Said once the daemon took the request: a name it does not know is told first.
        print(
            f"{args.name}: the daemon at {base} holds {settings.state}; asked it to sync now…",
            file=sys.stderr,  # stdout carries the report only (`--output json` parses it)
        )
        flight = answer.get("inFlight")
        if isinstance(flight, dict):
            print(in_flight_line(args.name, flight), file=sys.stderr)

    try:
        status = asyncio.run(
            sync_through_daemon(
                settings,
                base,
                args.name,
                allow_removals=args.allow_removals,
                patience=args.timeout,
                follow=follow,
                accepted=accepted,
            )
        )
    except KeyboardInterrupt:
        follower.close()
        print(
            f"\n{args.name}: stopped following; the run goes on in the daemon "
            f"(`syncd status {args.name}`)",
            file=sys.stderr,
        )
        return 130
    finally:
        follower.close()
    last = status.get("lastRun") or {}
    if args.output == "json":
        print(json.dumps(status, indent=2))
    else:
        counts = last.get("counts", {})
        print(
            f"{args.name}: {last.get('outcome')} · upserted {counts.get('upserted', 0):,}"
            + (
                f" ({counts['resumed']:,} of an earlier run's batches)"
                if counts.get("resumed")
                else ""
            )
            + " · "
            f"removed {counts.get('removed', 0):,} · unchanged {counts.get('unchanged', 0):,} "
            f"· rejected {counts.get('rejected', 0):,}"
            + (f" · forgotten {counts['forgotten']:,}" if counts.get("forgotten") else "")
            + (f" · moved away {counts['movedAway']:,}" if counts.get("movedAway") else "")
        )
        waiting = waiting_lines(
            pending_removals=int(counts.get("pendingRemovals", 0)),
            awaiting_search=int(counts.get("awaitingSearch", 0)),
        )
        for line in waiting:
            print(line)
        if last.get("error"):
            print(f"  {last['error']}")
    return 0 if last.get("outcome") == "success" else 1


def _print_status(settings: Settings, name: str) -> None:
    # Imported here: the status machine and its shapes are not needed to run a sync.
    from syncd.cli.ledger_status import status_from_ledger

    document = status_from_ledger(settings)
    for status in document.destinations:
        if status.name == name:
            print(json.dumps(status.wire(), indent=2))
