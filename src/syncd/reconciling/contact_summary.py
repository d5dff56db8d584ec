"""One sentence for where a contact stands in a destination (`contact_story`'s summary).

It says what holds the contact where it is and what moves it on: the next sync, a batch
under way, a retry budget, the removal guard, `syncd forget`.
"""

from __future__ import annotations

from syncd.contacts import refuses_the_address
from syncd.ledger import ContactRecord
from syncd.reconciling.batch_records import open_batch
from syncd.reconciling.explaining import Facts
from syncd.reconciling.removing import ELSEWHERE
from syncd.shapes import (
    Acknowledgement,
    BatchRecord,
    ContactState,
    RejectionRecord,
    iso,
)


def summary(
    state: ContactState,
    facts: Facts,
    acknowledgement: Acknowledgement | None,
    rejection: RejectionRecord | None,
) -> str:
    where = f"in segment {facts.rows[0].segment} (row {facts.rows[0].row})" if facts.rows else ""
    since = f" on {acknowledgement.at}" if acknowledgement else ""
    record = facts.record
    keep = facts.loaded is not None and facts.loaded.definition.spec.on_leave == "keep"
    if state == "inSync":
        return f"{where}; SendGrid acknowledged these very values{since}"
    removal = record.removal
    # toAdd: forgotten since (onLeave: keep) with its removal already sent.
    if state in ("toUpdate", "toAdd") and removal is not None and removal.sent_at:
        return (
            f"{where}; back in the segment after syncd sent its removal (on "
            f"{iso(removal.sent_at)}), which SendGrid may still apply: the sync "
            "re-adds it once search shows the removal applied, or SYNCD_SEARCH_LAG_GRACE "
            "after it was sent"
        )
    if state == "toUpdate":
        return (
            f"{where}; its values differ from those SendGrid acknowledged{since}: the next "
            "sync updates it"
        )
    if state == "toAdd":
        retry = (
            f"; SendGrid refused it {rejection.attempts} time(s) ({rejection.reason}), "
            f"{rejection.retries_left} retry(ies) left"
            if rejection and rejection.attempts
            else ""
        )
        return f"{where}; not on the list yet: the next sync adds it{retry}"
    if state == "sending":
        return f"{where}; on its way to SendGrid: {batch_text(open_batch(record.in_flight))}"
    if state == "rejected":
        reason = rejection.reason if rejection else "refused"
        again = (
            "; no change of its other values gets it sent: correct the address in the source"
            if refuses_the_address(reason)
            else "; it is sent again when its values change"
        )
        return f"{where}, but not sent: {reason}{again}"
    if state == "removing":
        batch = batch_text(open_batch(record.in_flight))
        return f"in no segment now; {batch} takes it off the list"
    if state == "pendingRemoval":
        if keep:
            return "in no segment now; it stays on the list (onLeave: keep) and is forgotten"
        pending = (
            "in no segment now, still on the list as far as syncd knows: its removal is pending"
            + (f" ({rejection.reason})" if rejection else "")
        )
        if facts.guard is not None and record.removal is None:  # no run began to remove it
            pending += (
                f"; the removal guard held it back at the last run ({facts.guard}): "
                f"`syncd sync {facts.name} --allow-removals` lets it go"
            )
        return pending
    departed = record.departed
    when = f" on {iso(departed.at)}" if departed else ""
    if state == "removed":
        return f"in no segment; taken off the list{when}"
    if state == "notRemoved":
        why = f": {rejection.reason}" if rejection else ""
        return (
            f"in no segment; syncd gave up taking it off the list{when}{why}. It may still "
            "be on the list: take it off in SendGrid if it is"
        )
    if state == "kept":
        return f"in no segment; left on the list and forgotten{when} (onLeave: keep)"
    if state == "erased":
        held = f"{where}, but " if where else ""
        return (
            f"{held}erased by syncd forget: no run sends it (its rows are skipped and "
            "counted) and the ledger keeps only a salted hash of it; `syncd forget --undo` "
            "lifts that"
        )
    if state == "segmentsNotRead":
        return (
            "the destination's file is invalid or gone, so its segments were not read "
            "(a daemon may still run its last good version); the ledger: " + ledger_says(record)
        )
    if rejection is not None and rejection.reason == ELSEWHERE:
        return (
            "in no segment; it left while syncd had put it on the destination's former list "
            "(listId changed since): taken off neither list, and forgotten"
        )
    return "in no segment, and syncd has no record of it"


def ledger_says(record: ContactRecord) -> str:
    if record.acknowledged is not None:
        return f"SendGrid acknowledged it on {iso(record.acknowledged.acked_at)}"
    if record.in_flight is not None:
        return batch_text(open_batch(record.in_flight))
    if record.departed is not None:
        return f"it left the list ({record.departed.how}) on {iso(record.departed.at)}"
    return "no record of it"


def batch_text(batch: BatchRecord | None) -> str:
    if batch is None:
        return "a batch"
    job = f", job {batch.job_id}" if batch.job_id else ""
    return f"batch {batch.batch} ({batch.kind}{job}) is {batch.state}"


DRIFT = (
    "SendGrid holds other values than those it acknowledged from syncd (edited there, or "
    "its search lags): a sync sends nothing while the segment's values are unchanged; "
    "`syncd audit {name} --heal` sends them again"
)


def drift_note(state: ContactState, name: str, differs: bool, lag: str) -> str:
    """The note under what SendGrid holds: why a difference is there and what mends it."""
    if state == "inSync" and differs:
        return DRIFT.format(name=name)
    return lag
