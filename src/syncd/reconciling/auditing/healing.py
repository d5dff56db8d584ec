"""What an audit does about the drift it found, once its counts are recorded.

- unacknowledged contacts are acknowledged in the ledger, without a request (always);
- with heal, missing and stale contacts are *unsettled* (their acknowledged fingerprint
  zeroed, the in-sync record cleared): the run that follows, or the next one after a
  crash, builds and sends them through the outbox;
- with prune, extra contacts are taken off the list by the export's contact ids, through
  the outbox as `remove` batches (never `delete`, whatever onLeave says): a crash leaves
  the batch for the next run to finish. The removal guard applies to the list's size. An
  id another row of the export also carries is not sent (`Workspace.find_extra`): an
  export is SendGrid's answer, and an extra row holding a member's id would take that
  member off the list.
"""

from __future__ import annotations

from syncd.clock import Clock
from syncd.ledger import DriftRecord, LedgerSession, OutboxItem
from syncd.loading import LoadedDestination
from syncd.logs import get_logger
from syncd.planning import percent
from syncd.reconciling.applying import Applier, Limits
from syncd.reconciling.auditing.findings import AuditRequest, Findings
from syncd.reconciling.auditing.workspace import DriftKind, Workspace
from syncd.reconciling.progress import RunProgress
from syncd.reconciling.removing import send_removal_batch
from syncd.reconciling.threads import in_thread
from syncd.sendgrid import REMOVE_LIMIT, SendGridClient

MISSING_OR_STALE: tuple[DriftKind, ...] = ("missing", "stale")
log = get_logger("syncd.audit")


async def repair(
    loaded: LoadedDestination,
    session: LedgerSession,
    workspace: Workspace,
    request: AuditRequest,
    found: Findings,
    *,
    clock: Clock,
) -> None:
    """Record the drift, acknowledge what needs no request, mark what heal must send."""
    counts = found.counts
    acknowledged = 0
    for page in workspace.pages("unacknowledged"):
        rows = [(email, fp or 0, found.binding.digest, raw or 0) for email, _, fp, raw in page]
        await in_thread(session.acknowledge_found, rows)
        acknowledged += len(rows)
    resent = 0
    if request.heal:
        for kind in MISSING_OR_STALE:
            for page in workspace.pages(kind):
                await in_thread(session.unsettle, [row[0] for row in page])
                resent += len(page)
    found.healing = found.healing.model_copy(
        update={"acknowledged": acknowledged, "resent": resent}
    )
    await in_thread(
        session.record_drift,
        DriftRecord(
            destination=loaded.definition.name,
            audited_at=found.audited_at or clock.now(),
            missing=counts.get("missing", 0),
            extra=counts.get("extra", 0),
            stale=counts.get("stale", 0),
            unacknowledged=counts.get("unacknowledged", 0),
            healed=any(counts.values()) and (request.heal or request.prune),
        ),
    )


def prune_guard(loaded: LoadedDestination, request: AuditRequest, found: Findings) -> str | None:
    """Why pruning is held back, or None: the removal guards, on the list's size."""
    if request.allow_removals:
        return None
    extra = found.counts.get("extra", 0)
    if found.profiles == 0:
        return "the segment is empty: pruning would empty the list; confirm with --allow-removals"
    fraction = loaded.definition.spec.limits.max_removal_fraction
    if extra > fraction * max(found.list_contacts, 1):
        return (
            f"pruning would take {extra:,} of the list's {found.list_contacts:,} contacts off "
            f"it, more than maxRemovalFraction ({percent(fraction)}); confirm with --allow-removals"
        )
    return None


async def prune(
    loaded: LoadedDestination,
    session: LedgerSession,
    client: SendGridClient,
    workspace: Workspace,
    found: Findings,
    *,
    run_id: int,
    limits: Limits,
    clock: Clock,
    live: RunProgress,
) -> int:
    """Extra contacts off the list; how many SendGrid accepted to remove."""
    applier = Applier(
        session,
        client,
        binding=found.binding,
        run_id=run_id,
        segment_names=[s.name for s in loaded.definition.spec.segments],
        limits=limits,
        clock=clock,
        stopping=lambda: False,
        live=live,
    )
    live.enter("removing")
    sent = without_id = 0
    for page in workspace.pages("extra"):
        items = [OutboxItem(email, body=cid.encode()) for email, cid, _, _ in page if cid]
        without_id += len(page) - len(items)
        for start in range(0, len(items), REMOVE_LIMIT):
            batch = await applier.outbox.open_batch("remove", items[start : start + REMOVE_LIMIT])
            await send_removal_batch(applier.outbox, batch)
            sent += batch.size
    await applier.settle()
    if without_id:
        # The export named no id syncd may send back for them (`answers.sendable_id`), or
        # one another of its rows carries too.
        log.warning("audit.extra_without_id", destination=loaded.definition.name, count=without_id)
    return sent
