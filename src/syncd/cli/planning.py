"""`syncd plan`: what a sync would do, without writing anything to SendGrid.

    syncd plan NAME [NAME ...] | --all        this host's ledger and sources
    syncd plan --remote URL --file PATH ...   the deployed daemon's (POST /v1/plans)

Exit status like `flux diff`, strict about guards: 0 nothing to do, 2 changes, 1 an
error, an invalid file or a guard that would stop the sync (the output names the guard
and how to pass it), so a pull-request check is red exactly when the deployed change
would not go through. Locally, only read requests reach SendGrid (the list, the custom
field definitions) and the ledger is opened read-only: a running daemon is not disturbed.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from yarl import URL

from syncd.cli.common import UsageError, add_common, add_output, seconds, settings_from
from syncd.cli.local import find_destination, local_reconciler
from syncd.cli.output import addresses_shown
from syncd.cli.plan_output import plan_json, plan_markdown, plan_text
from syncd.cli.remote import find_daemon, token
from syncd.cli.remote_plans import remote_plan
from syncd.errors import DefinitionError
from syncd.ledger import Ledger, open_ledger
from syncd.loading import LoadedDestination, load_directory
from syncd.reconciling.plans import invalid_entry, plan_destination
from syncd.settings import Settings
from syncd.shapes import PlanDocument, PlanEntry

EXIT_CODES = {
    0: "no destination would change",
    1: "an error, an invalid file, or a guard that would stop the sync (named, with how to "
    "pass it); also a command line or SYNCD_* setting it cannot start with",
    2: "changes: a sync would add, update or remove contacts",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME", help="destinations (metadata.name)")
    parser.add_argument("--all", action="store_true", help="every destination of the directory")
    parser.add_argument(
        "--allow-removals",
        action="store_true",
        help="plan as `syncd sync NAME --allow-removals` would run",
    )
    parser.add_argument(
        "--show-emails",
        action="store_true",
        help="show whole addresses in the examples (default: a***@example.com)",
    )
    parser.add_argument(
        "--remote",
        metavar="URL",
        help="ask the daemon at URL (e.g. http://syncd:9108) to plan the --file(s) against "
        "its own ledger and sources; the token is SYNCD_ADMIN_TOKEN",
    )
    parser.add_argument(
        "--file",
        dest="files",
        action="append",
        type=Path,
        metavar="PATH",
        help="with --remote: a candidate destination file (repeat for several)",
    )
    parser.add_argument(
        "--removed",
        action="append",
        type=Path,
        default=[],
        metavar="PATH",
        help="with --remote: a destination file the change deletes (a rename is one --removed "
        "and one --file); planned as if it were gone from the daemon's directory",
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=600.0,
        metavar="SECONDS",
        help="with --remote: how long to wait for the daemon's answer (default 600)",
    )
    add_output(parser, "text", "json", "markdown")
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    check_options(args)
    if args.remote and not args.remote.startswith(("http://", "https://")):
        raise UsageError(f"--remote {args.remote}: give the daemon's http:// or https:// URL")
    settings = settings_from(args)
    if args.remote:
        document = asyncio.run(_remote(settings, args))
    else:
        document = asyncio.run(_local(settings, args))
    with addresses_shown() if args.show_emails else nullcontext():
        print(render(document, args.output))
    return exit_status(document)


async def _remote(settings: Settings, args: argparse.Namespace) -> PlanDocument:
    return await remote_plan(
        args.remote,
        args.files,
        removed=args.removed,
        token=await _token_for(settings, args.remote),
        allow_removals=args.allow_removals,
        show_emails=args.show_emails,
        patience=args.timeout,
    )


async def _token_for(settings: Settings, url: str) -> str | None:
    """SYNCD_ADMIN_TOKEN; without one, the host token of the daemon that holds this CLI's
    own ledger, and only when `url` is that daemon: it is never sent anywhere else."""
    if settings.admin_token:
        return settings.admin_token.get_secret_value()
    local = await find_daemon(settings)
    if local is None or URL(local).origin() != URL(url.rstrip("/")).origin():
        return None
    return token(settings)


def render(document: PlanDocument, output: str) -> str:
    if output == "json":
        return plan_json(document)
    if output == "markdown":
        return plan_markdown(document)
    return plan_text(document)


def exit_status(document: PlanDocument) -> int:
    results = {entry.result for entry in document.destinations}
    if results & {"error", "invalid", "blocked"}:
        return 1
    return 2 if "changes" in results else 0


def check_options(args: argparse.Namespace) -> None:
    if args.remote:
        if args.names or args.all:
            raise UsageError("--remote plans the --file(s) given, not NAME or --all")
        if not args.files:
            raise UsageError("--remote needs at least one --file PATH")
        return
    if args.files or args.removed:
        raise UsageError(
            "--file and --removed go with --remote URL (locally, name the destination)"
        )
    if args.all and args.names:
        raise UsageError("name destinations or give --all, not both")
    if not args.all and not args.names:
        raise UsageError("name a destination (syncd plan NAME), or plan them all with --all")


async def _local(settings: Settings, args: argparse.Namespace) -> PlanDocument:
    entries: list[PlanEntry] = []
    wanted: list[LoadedDestination] = []
    if args.all:
        catalog = load_directory(settings.destinations, settings.allowlists())
        if not catalog.complete:
            raise DefinitionError("; ".join(str(p) for p in catalog.directory_problems))
        wanted = [catalog.destinations[name] for name in sorted(catalog.destinations)]
        for key, result in sorted(catalog.files.items()):
            if not result.valid:
                shown = [p.shape() for p in result.problems]
                entries.append(invalid_entry(key, str(result.path), shown))
    else:  # a name without a valid file stops the command, its file's problems said
        wanted = [find_destination(settings, name) for name in args.names]
    with _read_only(settings) as ledger:
        async with local_reconciler(settings, ledger) as reconciler:
            for loaded in wanted:
                entries.append(
                    await plan_destination(
                        reconciler,
                        loaded,
                        allow_removals=args.allow_removals,
                        show_emails=args.show_emails,
                    )
                )
    return PlanDocument(destinations=sorted(entries, key=lambda e: e.name))


@contextmanager
def _read_only(settings: Settings) -> Iterator[Ledger]:
    ledger = open_ledger(settings.state, writer=False)
    try:
        yield ledger
    finally:
        ledger.close()
