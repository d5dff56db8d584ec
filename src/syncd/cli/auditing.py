"""`syncd audit NAME`: read the real list back from SendGrid and compare it with the segment.

Counts per kind (missing, extra, stale, unacknowledged) and up to 20 example addresses of
each (masked unless `--show-emails`, as `plan` does). `--heal` sends missing and stale
contacts again; `--prune` takes extra ones off the list (never out of the account). With a
daemon holding the ledger, the daemon audits (`POST /v1/destinations/{name}/audit`) between
its runs of the destination; without one, the audit happens in this process.

Exit 2 means drift was found (healed or not), so a command line this command cannot start
with exits 1, as for `plan`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from contextlib import nullcontext

from syncd.cli.common import add_common, add_output, seconds, settings_from
from syncd.cli.local import find_destination, local_reconciler
from syncd.cli.output import addresses_shown
from syncd.cli.remote import audit_through_daemon, find_daemon, local_ledger, no_daemon
from syncd.ledger import Ledger
from syncd.loading import LoadedDestination
from syncd.reconciling.auditing import Auditor, AuditRequest
from syncd.settings import Settings
from syncd.shapes import AuditReport

EXIT_CODES = {
    0: "the list equals the segment: no drift",
    1: "the audit failed (the reason is printed), the destination is unknown or invalid, or "
    "the command line or a SYNCD_* setting is wrong",
    2: "drift found (missing, extra, stale or unacknowledged contacts), healed or not",
    130: "interrupted: a local audit stops (a restart polls the same export)",
}
KINDS = ("missing", "extra", "stale", "unacknowledged")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the destination's metadata.name")
    parser.add_argument("--heal", action="store_true", help="send missing and stale contacts again")
    parser.add_argument(
        "--prune",
        action="store_true",
        help="take extra contacts off the list (never out of the account)",
    )
    parser.add_argument(
        "--allow-removals",
        action="store_true",
        help="with --prune: confirm removals the guard held back (empty segment, large share)",
    )
    parser.add_argument(
        "--show-emails",
        action="store_true",
        help="show whole addresses in the examples (default: a***@example.com)",
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=3600.0,
        metavar="SECONDS",
        help="with a running daemon: how long to wait for its audit (default 3600)",
    )
    add_output(parser)
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    request = AuditRequest(
        heal=args.heal, prune=args.prune, allow_removals=args.allow_removals, reason="manual"
    )
    ledger = local_ledger(settings, keep_runs=settings.keep_runs)
    if ledger is None:  # a daemon holds the ledger: ask it to audit
        report = _through_daemon(settings, args, request)
    else:
        try:
            loaded = find_destination(settings, args.name)
            report = asyncio.run(_local(settings, ledger, loaded, request))
        except KeyboardInterrupt:
            print(
                f"\n{args.name}: interrupted; the next audit polls the same export", file=sys.stderr
            )
            return 130
        finally:
            ledger.close()
    if not args.show_emails:
        report = report.masked()
    with addresses_shown() if args.show_emails else nullcontext():
        print(json.dumps(report.wire(), indent=2) if args.output == "json" else audit_text(report))
    return exit_status(report)


def exit_status(report: AuditReport) -> int:
    if report.outcome != "success":
        return 1
    return 2 if report.drifted else 0


async def _local(
    settings: Settings, ledger: Ledger, loaded: LoadedDestination, request: AuditRequest
) -> AuditReport:
    async with local_reconciler(settings, ledger) as reconciler:
        return await Auditor(reconciler).audit(loaded, request)


def _through_daemon(
    settings: Settings, args: argparse.Namespace, request: AuditRequest
) -> AuditReport:
    base = asyncio.run(find_daemon(settings))
    if base is None:
        raise no_daemon(settings)
    print(
        f"{args.name}: the daemon at {base} holds {settings.state}; asking it to audit…",
        file=sys.stderr,
    )
    answer = asyncio.run(
        audit_through_daemon(
            settings,
            base,
            args.name,
            heal=request.heal,
            prune=request.prune,
            allow_removals=request.allow_removals,
            patience=args.timeout,
        )
    )
    return AuditReport.model_validate(answer)


def audit_text(report: AuditReport) -> str:
    """Counts per kind with examples, what was healed, and why an audit failed."""
    name = report.destination
    if report.audited_at is None:
        return f"{name}: audit {report.outcome}: {report.error}"
    lines = [
        f"{name}: audited {report.audited_at} · the list holds {report.list_contacts:,} · "
        f"the segment {report.profiles:,}"
    ]
    if report.excluded:
        lines.append(
            f"  {report.excluded:,} left out: sent or removed within SYNCD_AUDIT_SETTLE_WINDOW "
            "before the export (SendGrid may not show them yet), in an open batch, or refused "
            "by SendGrid for good (syncd status names them)"
        )
    counts = report.drift.wire()
    examples = report.examples.wire()
    for kind in KINDS:
        shown = examples[kind]
        more = counts[kind] - len(shown)
        listed = ", ".join(shown) + (f", … {more:,} more" if more > 0 else "")
        lines.append(f"  {kind:<15}{counts[kind]:>8,}  {listed}".rstrip())
    if not report.drifted and report.excluded:
        # Right after a sync every contact is within the window: "equal" would claim a
        # comparison that was not made. (Those refused for good are never compared.)
        lines.append(f"no drift among the contacts compared ({report.excluded:,} left out, above)")
    elif not report.drifted:
        lines.append("no drift: the list equals the segment")
    healing = report.healing
    done = []
    if healing.acknowledged:
        done.append(f"{healing.acknowledged:,} acknowledged in the ledger (no request)")
    if report.heal:
        done.append(f"{healing.resent:,} sent again")
    if report.prune:
        done.append(f"{healing.removed:,} taken off the list")
    if done:
        lines.append("healed: " + " · ".join(done))
    if healing.prune_blocked:
        lines.append(f"not pruned: {healing.prune_blocked}")
    if report.drifted and not report.heal and not report.prune:
        lines.append("to heal: syncd audit " + name + " --heal (and --prune for extra contacts)")
    if report.error:
        lines.append(f"{report.outcome}: {report.error}")
    return "\n".join(lines)
