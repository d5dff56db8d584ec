"""Leavers back in the segment after their removal was sent: re-added only once it settled.

SendGrid applies a removal when its job runs, and syncd cannot poll a list removal's job:
it learns the removal landed only from search. A contact re-added before the removal
lands would be taken off again by it, while the ledger holds it acknowledged. So a
returning leaver's re-add waits (`to_send` leaves it out, the diff counts it `held`) until
search shows it off the list or out of the account, or `search_lag_grace` has passed
since the removal went; `leaver_sorting.sort_returning` decides which. Looked at before
the diff of each run (not in a dry run: a plan counts them held and searches nothing).
A search SendGrid cannot answer (5xx, timeouts, after the client's retries) holds the
contacts it was for, and no other search is tried for them in this run: the rest of the
run (the upserts of every other contact) goes on, as it would without returning leavers;
whose grace has passed are released all the same (no search needed).
"""

from __future__ import annotations

from syncd.errors import SendGridUnavailable
from syncd.logs import get_logger
from syncd.reconciling.context import Outbox
from syncd.reconciling.leaver_sorting import in_grace, sort_returning
from syncd.reconciling.threads import in_thread
from syncd.sendgrid import Lookup

log = get_logger("syncd.reconciling")
PAGE = 1_000


async def release_returning(outbox: Outbox) -> int:
    """Returning leavers whose removal settled released (sent by this run like any contact
    that differs); returns how many still wait."""
    waiting = 0
    after = ""
    unanswered: str | None = None  # why search could not be asked, once it failed
    while page := await in_thread(outbox.session.returning, after, PAGE):
        after = page[-1].email
        now = outbox.clock.now()
        asked = [r.email for r in page if in_grace(r.sent_at, outbox.limits, now)]
        found = Lookup()
        if asked and unanswered is None:
            try:
                found = await outbox.client.lookup(asked)
            except SendGridUnavailable as error:
                unanswered = str(error)
                log.warning("reconcile.returning_unsearched", error=unanswered)
        if asked and unanswered is not None:
            found = Lookup(unclear=dict.fromkeys(asked, unanswered))
        released, held = sort_returning(
            page,
            found,
            list_id=outbox.list_id,
            limits=outbox.limits,
            now=now,
        )
        if released:
            await in_thread(outbox.session.released, released)
        waiting += len(held)
    if waiting:
        log.info("reconcile.returning_held", count=waiting)
    return waiting
