"""Recording the jobs that have ended while a long send goes on.

A first export of a million contacts sends 34 batches, one after another, and SendGrid
works through each job while the next batches are built and sent. Recorded only after the
last request (`settle`), every acknowledgement waited for the end of the send: at 1M, a
tail of seconds of ledger writes with nothing left to send. So between two batches syncd
looks at the states of the jobs it submitted before (in the background, while it builds
the next batch: an answer may take a while) and, at the next batch, records those that have
ended, in the order submitted, exactly as `settle` records them. The outbox is unchanged:
each batch recorded before its request, acknowledged only after its job has ended.
"""

from __future__ import annotations

import asyncio

from syncd.comparing import FieldTypes
from syncd.ledger import Batch
from syncd.reconciling.confirming import confirm_now
from syncd.reconciling.context import Outbox
from syncd.reconciling.settling import POLL_AHEAD, Resend, ended_first, job_id, record_ended
from syncd.sendgrid import Job, let_go


class SettleAhead:
    """Looks at the submitted jobs between two batches, and records those that ended."""

    def __init__(self, outbox: Outbox, resend: Resend, fields: FieldTypes) -> None:
        self.outbox = outbox
        self.resend = resend
        self.fields = fields
        self.window: list[Batch] = []
        self.look: asyncio.Task[list[Job | None]] | None = None

    async def between_batches(self) -> None:
        """Called after each batch is sent: records the jobs the last look found ended,
        then looks again at the jobs submitted before this batch (its own has only just
        been created). A look that failed is let go: `settle` asks again after the send,
        and meets whatever made it fail."""
        outbox = self.outbox
        if self.look is not None and self.look.done():
            look, self.look = self.look, None
            if not look.cancelled() and look.exception() is None:
                ended = ended_first(self.window, look.result())
                await confirm_now(
                    outbox, await record_ended(outbox, ended, self.resend, self.fields)
                )
        if self.look is None and len(outbox.pending) > 1 and not outbox.stopping():
            self.window = outbox.pending[:-1][:POLL_AHEAD]
            ids = [job_id(batch) for batch in self.window]
            self.look = asyncio.create_task(outbox.client.jobs(ids))

    async def close(self) -> None:
        """The send is over: a look still in flight is not needed (`settle` follows)."""
        look, self.look = self.look, None
        if look is not None:
            await let_go(look)
