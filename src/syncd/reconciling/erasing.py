"""Deleting forgotten contacts from SendGrid (`syncd forget --delete-in-sendgrid`).

An erasure is carried out as a leaver's removal with `onLeave: deleteContact` is
(`removing.py`): searched by email, the id taken only from a contact whose primary email
is the address, `DELETE /v3/marketing/contacts?ids=` through the outbox (recorded before
the request, its job id right after the 202), and done only when a search no longer
finds the contact. Search lags behind jobs, so an address not found yet is looked for
again on later runs for `removal_window`, and a deletion sent but still showing is sent
again after `search_lag_grace`, at most `MAX_REMOVAL_SENDS` times.

An erasure waits while an upsert job that may carry the address is in flight (in any
destination): SendGrid could otherwise create the contact again after deleting it.
"""

from __future__ import annotations

from syncd.ledger import Leaver
from syncd.logs import get_logger
from syncd.reconciling.context import Outbox
from syncd.reconciling.leaver_sorting import sort_leavers
from syncd.reconciling.removing import send_new_removals
from syncd.reconciling.threads import in_thread
from syncd.sendgrid import Lookup

log = get_logger("syncd.reconciling")


async def send_erasures(outbox: Outbox) -> None:
    """Carry this destination's pending erasures as far as they go now; the jobs of the
    deletions sent are left for the caller to settle."""
    session = outbox.session
    pending = await in_thread(session.erasures)
    if not pending or outbox.stopping():  # not even a search once asked to stop
        return
    waiting = await in_thread(session.erasures_waiting)
    if waiting:
        log.info("forget.erasure_waits_for_job", count=len(waiting))
    ready = [erasure for erasure in pending if erasure.email not in waiting]
    if ready:
        await _erase(outbox, ready)


async def _erase(outbox: Outbox, erasures: list[Leaver]) -> None:
    session = outbox.session
    found = await outbox.client.lookup([erasure.email for erasure in erasures])
    sorted_ = sort_leavers(
        erasures,
        found,
        "delete",
        list_id=outbox.list_id,
        limits=outbox.limits,
        now=outbox.clock.now(),
    )
    given_up = {
        erasure.email: _why_given_up(outbox, erasure, found)
        for erasure in erasures
        if erasure.email in sorted_.given_up
    }
    finished = [*sorted_.done, *given_up]
    if finished:
        await in_thread(session.erasures_done, finished)
    if sorted_.missed:
        await in_thread(session.erasures_missed, sorted_.missed)
    outbox.result.erased += len(sorted_.done)
    outbox.result.erasures_given_up |= given_up
    if given_up:
        log.warning("forget.erasure_given_up", count=len(given_up))
    await send_new_removals(outbox, "delete", sorted_.delete)


def _why_given_up(outbox: Outbox, erasure: Leaver, found: Lookup) -> str:
    if erasure.email in found.unsearchable:
        return found.unsearchable[erasure.email]
    if erasure.email in found.unclear:
        return found.unclear[erasure.email]
    if erasure.email not in found.found:
        minutes = outbox.limits.removal_window / 60
        return (
            f"SendGrid's search has not found the contact for {minutes:.0f} min: it is not in "
            "SendGrid (or not searchable), so nothing was deleted"
        )
    return (
        f"SendGrid accepted its deletion {erasure.sends} times but still shows it: delete it "
        "by hand and check SendGrid's status"
    )
