"""Recording the jobs that have ended while a long send goes on.

A first export of a million contacts sends 34 batches, one after another, and SendGrid
works through each job while the next batches are built and sent; a run that removes
10,000 leavers sends a hundred removal jobs, ten pages of ten. Recorded only after the
last request (`settle`), every job waited for the end of the send: at 1M, a tail of
seconds of ledger writes with nothing left to send; against real round trips, the polls
and confirming searches of a hundred removal jobs one window after another. So between
two batches (or pages of removals) syncd looks at the states of the jobs it submitted
before the last of them (in the background, while it builds the next one: an answer may
take a while) and, at the next, records those that have ended, in the order submitted,
exactly as `settle` records them. The outbox is unchanged: each batch recorded before its
request, acknowledged only after its job has ended. The leavers of the removal jobs
closed here are confirmed by search a step behind (`confirming`), their searches sharing
the client's few in flight with the lookups of the pages still to come.
"""

from __future__ import annotations

import asyncio

from syncd.comparing import FieldTypes
from syncd.ledger import Batch
from syncd.reconciling.confirming import Confirmations
from syncd.reconciling.context import Outbox
from syncd.reconciling.settling import POLL_AHEAD, Resend, ended_first, job_id, record_ended
from syncd.sendgrid import Job, let_go


class SettleAhead:
    """Looks at the submitted jobs between two batches, and records those that ended; the
    leavers of the removal jobs among them are confirmed a step behind (a send of upserts
    has none: a run settles every job left open before it sends anything new)."""

    def __init__(self, outbox: Outbox, resend: Resend, fields: FieldTypes) -> None:
        self.outbox = outbox
        self.resend = resend
        self.fields = fields
        self.confirmations = Confirmations(outbox)
        self.before: set[int] = set()
        """The batches pending at the last call: submitted before the latest ones."""
        self.width = POLL_AHEAD
        """Jobs to look at next: a window at first, then twice as many as the last look
        found ended (at most `POLL_AHEAD`), one when it found none: jobs slower than the
        send cost a poll a batch, not a window's."""
        self.window: list[Batch] = []
        self.look: asyncio.Task[list[Job | None]] | None = None

    async def between_batches(self) -> None:
        """Called after each batch (or page of removals) is sent: records the jobs the last
        look found ended, then looks again at the jobs submitted before the last call
        (those just submitted have only just been created). A look that failed is let go:
        `settle` asks again after the send, and meets whatever made it fail."""
        outbox = self.outbox
        if self.look is not None and self.look.done():
            look, self.look = self.look, None
            if not look.cancelled() and look.exception() is None:
                await self._record(look.result())
        if self.look is None and not outbox.stopping():
            self.window = self._submitted_before()
            if self.window:
                ids = [job_id(batch) for batch in self.window]
                self.look = asyncio.create_task(outbox.client.jobs(ids))
        self.before = {batch.id for batch in outbox.pending}

    async def finish(self) -> None:
        """The send is over: the look under way is waited for and what it found recorded,
        and the last confirming search too (`settle` polls the jobs left)."""
        look, self.look = self.look, None
        if look is not None:
            await asyncio.wait([look])  # one that failed is let go, as between batches
            if not look.cancelled() and look.exception() is None:
                await self._record(look.result())
        await self.confirmations.settle()

    async def close(self) -> None:
        """A look or a search still in flight is not needed (the send ended, or failed)."""
        look, self.look = self.look, None
        if look is not None:
            await let_go(look)
        await self.confirmations.close()

    def _submitted_before(self) -> list[Batch]:
        """The first pending jobs, up to `width`, that were already pending at the last
        call (from the first on: jobs are recorded in the order submitted)."""
        window: list[Batch] = []
        for batch in self.outbox.pending[: self.width]:
            if batch.id not in self.before:
                break
            window.append(batch)
        return window

    async def _record(self, states: list[Job | None]) -> None:
        ended = ended_first(self.window, states)
        self.width = min(POLL_AHEAD, max(1, 2 * len(ended)))
        closed = await record_ended(self.outbox, ended, self.resend, self.fields)
        await self.confirmations.behind(closed)
