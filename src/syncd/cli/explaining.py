"""`syncd explain EMAIL`: why one address is (not) on each destination's list.

For every destination that holds or held the address (or the one named with
--destination): the segment rows it comes from, the values syncd maps, how they
compare with what SendGrid acknowledged and when, the batch and job that carried it,
a rejection with its reason and retries left, a pending removal; with --live, what
SendGrid's search shows now. Reads the sources (in full: a file is streamed, a SQL
source runs its query once) and the ledger, read-only; only --live asks SendGrid.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from contextlib import nullcontext

from syncd.cli.common import (
    BAD_USAGE_OR_SETTINGS,
    UsageError,
    add_common,
    add_output,
    settings_from,
)
from syncd.cli.explain_output import explain_text
from syncd.cli.local import local_reconciler
from syncd.cli.output import addresses_shown
from syncd.cli.remote import UnknownDestination
from syncd.errors import DefinitionError
from syncd.ledger import open_ledger
from syncd.loading import LoadedDestination, load_directory
from syncd.reconciling.contact_story import explain_document
from syncd.reconciling.explaining import email_key, gather
from syncd.settings import Settings
from syncd.shapes import ExplainDocument

EXIT_CODES = {
    0: "a destination's segments or ledger hold (or held) the address",
    1: "no segment holds the address and syncd has no record of it; or an error",
    2: BAD_USAGE_OR_SETTINGS,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "email", help="the address, as written anywhere (it is keyed as syncd keys it)"
    )
    parser.add_argument("--destination", metavar="NAME", help="only this destination")
    parser.add_argument(
        "--live", action="store_true", help="also ask SendGrid what it holds now (search)"
    )
    parser.add_argument(
        "--show-emails", action="store_true", help="print the address whole (default: masked)"
    )
    add_output(parser, "text", "json")
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        email = email_key(args.email)
    except DefinitionError as refused:  # the argument itself: the command cannot start
        raise UsageError(f"the address given: {refused.message}") from None
    document = asyncio.run(_explain(settings, email, args))
    with addresses_shown() if args.show_emails else nullcontext():
        if args.output == "json":
            print(json.dumps(document.wire(), indent=2, ensure_ascii=False))
        else:
            print(explain_text(document))
    return 0 if document.known else 1


async def _explain(settings: Settings, email: str, args: argparse.Namespace) -> ExplainDocument:
    catalog = load_directory(settings.destinations, settings.allowlists())
    ledger = open_ledger(settings.state, writer=False)
    try:
        destinations: dict[str, LoadedDestination | None] = dict.fromkeys(
            await asyncio.to_thread(ledger.destination_names)
        )
        destinations.update(catalog.destinations)
        if args.destination is not None:
            if args.destination not in destinations:
                known = ", ".join(sorted(destinations)) or "none"
                raise UnknownDestination(  # `unknownDestination`, as status and history say
                    f"no destination named {args.destination!r} in {settings.destinations} or "
                    f"the ledger (known: {known})"
                )
            destinations = {args.destination: destinations[args.destination]}
        async with local_reconciler(settings, ledger) as reconciler:
            facts = await gather(reconciler, ledger, destinations, email, live=args.live)
    finally:
        ledger.close()
    return explain_document(facts, email, show_emails=args.show_emails, asked=args.destination)
