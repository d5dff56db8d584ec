"""`syncd status [NAME]`: where each destination stands, as the daemon sees it.

With a daemon holding the ledger (found through the ledger's lock file, then
SYNCD_LISTEN) its status is shown as is; without one, the same document is built from
the destination files and the ledger's runs. `--output json` prints
`syncd.shapes.StatusDocument` (or, with NAME, that destination's object: the same one
`GET /v1/destinations/NAME` answers). `--rejections` lists the rejected rows of the
destination's last run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys

from syncd.cli.common import (
    BAD_USAGE_OR_SETTINGS,
    UsageError,
    add_common,
    add_output,
    settings_from,
)
from syncd.cli.ledger_status import status_from_ledger
from syncd.cli.output import addresses_shown
from syncd.cli.remote import find_daemon, get_json
from syncd.cli.status_text import status_detail, status_table
from syncd.ledger import open_ledger
from syncd.settings import Settings
from syncd.shapes import (
    ErrorBody,
    ErrorDocument,
    RejectedRow,
    RejectedRows,
    StatusDocument,
    mask_email,
)

EXIT_CODES = {
    0: "shown",
    1: "no destination of that name, or the ledger cannot be read",
    2: BAD_USAGE_OR_SETTINGS,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="one destination, in detail")
    add_output(parser)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # --output json
    parser.add_argument(
        "--rejections",
        action="store_true",
        help="with NAME: the rejected rows of its last run (audits aside)",
    )
    parser.add_argument(
        "--show-emails",
        action="store_true",
        help="with --rejections --output json: the addresses unmasked (personal data)",
    )
    add_common(parser)


def current(settings: Settings) -> StatusDocument:
    """The daemon's status document, or the same built from the files and the ledger."""
    base = asyncio.run(find_daemon(settings))
    if base is None:
        if (ledger := settings.ledger_file) is not None and not ledger.exists():
            # Not an error (nothing has run yet), but a mistyped SYNCD_STATE looks the same.
            print(
                f"syncd status: no ledger at {settings.state} yet: no run has been recorded "
                "there (is SYNCD_STATE the daemon's?)",
                file=sys.stderr,
            )
        return status_from_ledger(settings)
    _, body = asyncio.run(get_json(base, "/v1/destinations"))
    return StatusDocument.model_validate(body)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    output = "json" if args.json else args.output
    if args.rejections:
        return _rejections(settings, args.name, output, show=args.show_emails)
    document = current(settings)
    if not args.name:
        print(json.dumps(document.wire(), indent=2) if output == "json" else status_table(document))
        return 0
    for status in document.destinations:
        if status.name == args.name:
            print(
                json.dumps(status.wire(), indent=2) if output == "json" else status_detail(status)
            )
            return 0
    known = ", ".join(s.name for s in document.destinations) or "none"
    return unknown(args.name, known, output)


def unknown(name: str, known: str, output: str, *, command: str = "status") -> int:
    message = f"no destination named {name!r} (known: {known})"
    if output == "json":
        error = ErrorDocument(error=ErrorBody(code="unknownDestination", message=message))
        print(json.dumps(error.wire(), indent=2))
    print(f"syncd {command}: {message}", file=sys.stderr)
    return 1


MAX_RUNS_LOOKED_AT = 50


def _rejections(settings: Settings, name: str | None, output: str, *, show: bool) -> int:
    if not name:
        raise UsageError("--rejections needs a destination NAME")
    ledger = open_ledger(settings.state, writer=False)
    try:
        # An audit's own record (no read) is kept among the runs but rejects no row; the
        # run that heals after it (trigger `audit` too) reads the segment and may.
        runs = [
            r
            for r in ledger.runs(name, limit=MAX_RUNS_LOOKED_AT)
            if not (r.trigger == "audit" and r.read is None)
        ]
        rejections = ledger.rejections(runs[0].id, limit=10_000) if runs else []
        # Told by the run that gave up on them only; on the list until someone acts.
        told = {r.email for r in rejections if r.email}
        given_up = [r for r in ledger.given_up_leavers(name, 10_000) if r.email not in told]
    finally:
        ledger.close()
    if runs and output != "json":
        also = f", and {len(given_up):,} leaver(s) given up on before" if given_up else ""
        print(
            f"{name}: {len(rejections):,} rejected row(s) in run #{runs[0].id} "
            f"({runs[0].trigger}){also}",
            file=sys.stderr,
        )
    rejections += given_up
    if output == "json":
        rows = [
            RejectedRow(
                segment=r.segment,
                row=r.row,
                reason=r.reason,
                email=r.email if show else mask_email(r.email) if r.email else "",
            )
            for r in rejections
        ]
        document = RejectedRows(destination=name, run=runs[0].id if runs else None, rejections=rows)
        with addresses_shown() if show else contextlib.nullcontext():
            print(json.dumps(document.wire(), indent=2))
        return 0
    # The operator asked for the rows: a reason may name its address (SendGrid's do).
    with addresses_shown():
        for rejection in rejections:
            print(f"{rejection.place}: {rejection.reason}")
    return 0
