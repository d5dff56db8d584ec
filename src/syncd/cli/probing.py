"""`syncd probe --live --list-name NAME [--output text|json]`: what SendGrid does not
document, settled against the user's own account.

Without `--live` it refuses (exit 2) and says what it would do. With it: one line per
behaviour of the fidelity table (what was observed, what syncd assumes, whether they
agree), then what the clean-up deleted and what it could not (with the request to delete
it by hand). Exit 0: every finding agrees; 3: at least one disagrees; 1: the probe
stopped on an error or left something behind; 2: a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import Any

import orjson

from syncd.cli.common import BAD_USAGE_OR_SETTINGS, add_output
from syncd.contacts.addresses import refusal
from syncd.reconciling.connecting import DEFAULT_BASE_URL
from syncd.reconciling.probing import (
    Created,
    Pace,
    ProbeError,
    ProbeOptions,
    ProbeReport,
    probe_live,
)
from syncd.settings import Settings

EXIT_DISAGREES = 3
EXIT_CODES = {
    0: "the probe ran and every finding agrees with what syncd assumes",
    1: "an error, or something the probe made is left in the account (printed with how to "
    "delete it)",
    2: BAD_USAGE_OR_SETTINGS + "; or --live is missing (the probe then only says what it would do)",
    EXIT_DISAGREES: "the probe ran and at least one finding disagrees with syncd",
}
MAX_LIST_NAME = 100
WHAT_IT_DOES = """\
syncd probe: refused without --live. The probe writes to the SendGrid account of the key
in SENDGRID_API_KEY (or --api-key-env NAME), at SYNCD_SENDGRID_BASE_URL or
https://api.sendgrid.com. It would:
  1. read the key's scopes (GET /v3/scopes);
  2. create a list named by --list-name (refused if one has that name), and the custom
     fields syncd_probe_number (Number) and syncd_probe_date (Date) unless they exist;
  3. upsert three throw-away contacts to that list, under --email-domain (default
     example.com): one with blank typed fields, one with a date, one invalid address;
  4. poll their job and download its errors file;
  5. search for them every second until found (at most --max-wait, default 600 s);
  6. take them off the list, poll that job, and search until they show off it;
  7. delete the contacts, the list and the custom fields it created, even when a step
     fails, and print the ids of anything it could not delete.
It needs the flag because it adds contacts to a real account (they may count toward the
account's contact limit until they are deleted) and needs every Marketing scope.
Run it again with --live to do so."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--live", action="store_true", help="really write to the account (required)"
    )
    parser.add_argument(
        "--list-name", metavar="NAME", help="name of the scratch list (must not exist)"
    )
    add_output(parser)
    parser.add_argument(
        "--api-key-env",
        metavar="NAME",
        default="SENDGRID_API_KEY",
        help="environment variable holding the key (allowed by SYNCD_SECRET_ENV)",
    )
    parser.add_argument(
        "--email-domain",
        metavar="DOMAIN",
        default="example.com",
        help="domain of the throw-away addresses (default example.com)",
    )
    parser.add_argument(
        "--max-wait",
        metavar="SECONDS",
        type=float,  # checked with the other options: its own message, exit 2
        default=600.0,
        help="longest wait for a job or for search to catch up (default 600)",
    )


def run(args: argparse.Namespace) -> int:
    if not args.live:
        print(WHAT_IT_DOES, file=sys.stderr)
        return 2
    problem = _usage_problem(args)
    if problem is not None:
        print(f"syncd probe: {problem}", file=sys.stderr)
        return 2
    settings = Settings()
    report = ProbeReport(settings.sendgrid_base_url or DEFAULT_BASE_URL, args.list_name)
    options = ProbeOptions(
        list_name=args.list_name,
        email_domain=args.email_domain,
        key_env=args.api_key_env,
        pace=Pace(max_wait=args.max_wait),
        removal_window=settings.removal_window,
    )
    # Interrupted, the probe has cleaned up and noted it in the report.
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(_probe(settings, options, report))
    if args.output == "json":
        print(orjson.dumps(document(report), option=orjson.OPT_INDENT_2).decode())
    else:
        print("\n".join(text(report)))
    return exit_status(report)


def _usage_problem(args: argparse.Namespace) -> str | None:
    if not args.list_name or len(args.list_name) > MAX_LIST_NAME:
        return f"--list-name NAME is required: 1 to {MAX_LIST_NAME} characters, no list's name"
    reason = refusal(f"syncd-probe-0-date@{args.email_domain}")
    if reason is not None:
        return f"--email-domain {args.email_domain}: not a domain syncd sends addresses to"
    if not args.max_wait > 0:
        return "--max-wait SECONDS must be more than 0"
    return None


async def _probe(settings: Settings, options: ProbeOptions, report: ProbeReport) -> None:
    """SIGTERM stops the probe as Ctrl-C does: it cleans up before it exits."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        await probe_live(settings, options, report)
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def exit_status(report: ProbeReport) -> int:
    if report.error is not None or not report.cleanup.complete:
        return 1
    return EXIT_DISAGREES if report.disagreements else 0


def text(report: ProbeReport) -> list[str]:
    lines = [f"syncd probe against {report.base_url}, scratch list {report.list_name!r}:"]
    for finding in report.ordered():
        verdict = {True: "agrees", False: "DISAGREES", None: "not observed"}[finding.agrees]
        lines.append(
            f"{finding.behaviour} [{verdict}]: {finding.observed}; "
            f"syncd assumes {finding.syncd_assumes}"
        )
    lines += _cleanup_lines(report)
    if report.error is not None:
        lines.append(f"error ({report.error.code}): {report.error.message}")
    lines.append(_verdict(report))
    return lines


def _cleanup_lines(report: ProbeReport) -> list[str]:
    cleanup = report.cleanup
    lines = []
    if cleanup.deleted:
        lines.append("clean-up deleted: " + "; ".join(map(_described, cleanup.deleted)))
    for kept in cleanup.kept:
        lines.append(f"clean-up kept: {_described(kept)}")
    for left in cleanup.left:
        lines.append(f"LEFT BEHIND: {_described(left)}; delete it by hand: {left.how_to_delete}")
    if not cleanup.deleted and not cleanup.left:
        lines.append("clean-up: nothing was made, nothing to delete")
    return lines


def _described(created: Created) -> str:
    kind = {"list": "list", "customField": "custom field", "contacts": "contacts"}[created.kind]
    ids = f" ({', '.join(created.ids)})" if created.ids else ""
    note = f": {created.note}" if created.note else ""
    name = (
        f"whose address starts with {created.name}"
        if created.kind == "contacts"
        else repr(created.name)
    )
    return f"{kind} {name}{ids}{note}"


def _verdict(report: ProbeReport) -> str:
    findings = report.ordered()
    agree = sum(1 for f in findings if f.agrees is True)
    unseen = sum(1 for f in findings if f.agrees is None)
    disagree = report.disagreements
    summary = f"{agree} of {len(findings)} behaviours agree with syncd's assumptions"
    if disagree:
        summary += f"; {len(disagree)} DISAGREE ({', '.join(disagree)}): see docs/probe.md"
    if unseen:
        summary += f"; {unseen} not observed"
    return summary


def document(report: ProbeReport) -> dict[str, Any]:
    """The `--output json` document (camelCase, `schemaVersion` syncd/v1)."""
    return {
        "schemaVersion": "syncd/v1",
        "baseUrl": report.base_url,
        "listName": report.list_name,
        "findings": [
            {
                "behaviour": finding.behaviour,
                "observed": finding.observed,
                "syncdAssumes": finding.syncd_assumes,
                "agrees": finding.agrees,
                "details": dict(finding.details),
            }
            for finding in report.ordered()
        ],
        "disagreements": report.disagreements,
        "cleanup": {
            "complete": report.cleanup.complete,
            "deleted": [_created(c) for c in report.cleanup.deleted],
            "leftBehind": [
                {**_created(c), "howToDelete": c.how_to_delete} for c in report.cleanup.left
            ],
            "kept": [_created(c) for c in report.cleanup.kept],
        },
        "error": _error(report.error),
    }


def _created(created: Created) -> dict[str, Any]:
    return {
        "kind": created.kind,
        "ids": list(created.ids),
        "name": created.name,
        "note": created.note,
    }


def _error(error: ProbeError | None) -> dict[str, str] | None:
    return None if error is None else {"code": error.code, "message": error.message}
