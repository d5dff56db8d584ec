"""`syncd forget EMAIL`: an erasure request (GDPR art. 17 style), or its undoing.

Carried out in this process, or by the running daemon that owns the ledger (between runs
of the destinations it touches). The address is printed only here, on the standard
output of the operator who asked; no log line and no answer of the daemon carries it.
Exit 0 when done (a deletion SendGrid's search has yet to confirm included), 1 on error.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import aiohttp

from syncd.cli.common import BAD_USAGE_OR_SETTINGS, add_common, seconds, settings_from
from syncd.cli.output import addresses_shown
from syncd.cli.remote import forget_through_daemon, local_ledger
from syncd.ledger import Ledger
from syncd.loading import load_directory
from syncd.metrics import Metrics
from syncd.reconciling import Reconciler
from syncd.reconciling.forgetting import ForgetRequest, Forgetting, keyed
from syncd.settings import Settings

EVERY = "every destination"
WHAT = {
    "acknowledged": "acknowledged contact",
    "retries": "retry record",
    "removals": "removal record",
    "rejections": "rejected row",
    "errors": "run error quoting it",
    "unsent": "unsent batch item",
}


EXIT_CODES = {
    0: "done: the address is forgotten (or no longer, with --undo); a deletion in SendGrid "
    "its search has yet to confirm counts as done",
    1: "refused (nothing changed), or the deletion in SendGrid failed",
    2: BAD_USAGE_OR_SETTINGS,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("email", help="the address to forget (or, with --undo, to forget no more)")
    parser.add_argument(
        "--destination", metavar="NAME", help="only this destination (default: every one)"
    )
    parser.add_argument(
        "--delete-in-sendgrid",
        action="store_true",
        help="also delete the contact from each SendGrid account of these destinations",
    )
    parser.add_argument(
        "--undo", action="store_true", help="forget it no more: runs may send it again"
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=3600.0,
        metavar="SECONDS",
        help="with a running daemon: how long to wait for its answer (default 3600)",
    )
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    address = keyed(args.email)  # refuses a malformed address before anything is touched
    request = ForgetRequest(address, args.destination, args.delete_in_sendgrid, args.undo)
    ledger = local_ledger(settings)
    if ledger is None:  # a daemon holds the ledger: it carries the request out
        print(f"a running daemon owns {settings.state}; asking it…")
        answer = asyncio.run(forget_through_daemon(settings, request, patience=args.timeout))
    else:
        try:
            answer = asyncio.run(_here(settings, ledger, request))
        finally:
            ledger.close()
    with addresses_shown():
        print(f"{'undo: ' if args.undo else 'forget: '}{address}")
    print(forget_text(answer))
    return 1 if any(d["outcome"] == "failed" for d in answer["sendgrid"]) else 0


async def _here(settings: Settings, ledger: Ledger, request: ForgetRequest) -> dict[str, Any]:
    files = load_directory(settings.destinations, settings.allowlists()).destinations
    async with aiohttp.ClientSession() as http:
        forgetting = Forgetting(ledger, Reconciler(ledger, http, settings, Metrics()))
        report = await forgetting.carry_out(request, files, stopping=lambda: False)
    return report.as_json()


def forget_text(answer: dict[str, Any]) -> str:
    """What the answer says, without the address (the caller prints it where it may)."""
    scope = answer["destination"] or EVERY
    if answer["undo"]:
        return _undo_text(answer, scope)
    segments = f"{answer['destination']}'s segments" if answer["destination"] else "every segment"
    lines = [
        f"  forgotten for {scope}"
        + ("" if answer["changed"] else " (it was already)")
        + f": runs drop its rows from {segments} (counted as forgotten) until "
        "`syncd forget --undo`"
    ]
    for held in answer["destinations"]:
        lines.append(f"  {held['name']}: {_removed(held)}")
    for deletion in answer["sendgrid"]:
        where = f" ({deletion['destination']}'s account)" if deletion["destination"] else ""
        detail = f": {deletion['detail']}" if deletion["detail"] else ""
        lines.append(f"  SendGrid{where}: {deletion['outcome']}{detail}")
    return "\n".join(lines)


def _removed(held: dict[str, Any]) -> str:
    parts = [
        f"{held[key]} {noun}{'s' * (held[key] != 1)}" for key, noun in WHAT.items() if held[key]
    ]
    text = f"removed {', '.join(parts)}" if parts else "nothing held"
    if held["inFlight"]:
        text += (
            f"; {held['inFlight']} in a batch SendGrid already has: it cannot be recalled, its "
            "job finishes and the address is not recorded"
        )
    return text


def _undo_text(answer: dict[str, Any], scope: str) -> str:
    if answer["changed"]:
        lines = [
            f"  forgotten no more for {scope}: the next runs read their sources again and "
            "send it if a segment holds it"
        ]
    else:
        lines = [f"  it was not forgotten for {scope}: nothing to undo"]
    remaining = [name or EVERY for name in answer["stillForgotten"]]
    if remaining:
        lines.append(
            f"  still forgotten for {', '.join(remaining)}: leave out --destination to undo "
            "it everywhere"
        )
    if answer["cancelledErasures"]:
        lines.append(
            f"  {answer['cancelledErasures']} deletion(s) in SendGrid not done yet: cancelled"
        )
    return "\n".join(lines)
