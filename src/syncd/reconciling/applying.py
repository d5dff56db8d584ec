"""The outbox, carried out: record a batch, send it, record its job, acknowledge on completion.

Each step is its own ledger transaction (docs/guarantees.md), so a crash anywhere leaves
a state the next run finishes: a `prepared` batch is sent again (upserts are idempotent,
and a body SendGrid refused was already changed before the crash could repeat it), a
`submitted` one is polled and never sent again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from syncd.clock import Clock
from syncd.comparing import FieldTypes
from syncd.contacts import ContactBuilder, FieldBinding, Outgoing
from syncd.errors import SendGridStalled
from syncd.ledger import Batch, LedgerSession
from syncd.planning import RemovalAction
from syncd.reconciling.context import Applied, Limits, Outbox
from syncd.reconciling.erasing import send_erasures
from syncd.reconciling.first_export import send_first_export
from syncd.reconciling.leavers_ahead import LeaversAhead
from syncd.reconciling.progress import RunProgress
from syncd.reconciling.removing import forget_moved_away, send_removal_batch, send_removals
from syncd.reconciling.returning import release_returning
from syncd.reconciling.settling import settle
from syncd.reconciling.settling_ahead import SettleAhead
from syncd.reconciling.staging import Staged
from syncd.reconciling.threads import in_thread
from syncd.reconciling.upserting import Between, send_upsert_batch, send_upserts
from syncd.sendgrid import SendGridClient

__all__ = ["Applied", "Applier", "Limits"]
T = TypeVar("T")


class Applier:
    def __init__(
        self,
        session: LedgerSession,
        client: SendGridClient,
        *,
        binding: FieldBinding,
        run_id: int | None,
        segment_names: list[str],
        limits: Limits,
        clock: Clock,
        stopping: Callable[[], bool],
        live: RunProgress | None = None,
    ) -> None:
        self.outbox = Outbox(
            session,
            client,
            list_id=binding.list_id,
            run_id=run_id,
            segment_names=segment_names,
            limits=limits,
            clock=clock,
            stopping=stopping,
            live=live,
            on_this_list=binding.on_this_list,
        )
        # To compare what SendGrid holds (custom fields by name) with what was sent (by id).
        self.fields: FieldTypes = {
            field.id: (name, field.type) for name, field in binding.custom_fields.items()
        }

    @property
    def result(self) -> Applied:
        return self.outbox.result

    async def resume(self) -> None:
        """Finish what earlier runs left open before computing anything new: their batches,
        then the erasures `syncd forget` asked of this destination's account."""
        outbox = self.outbox
        outbox.forgotten = await in_thread(outbox.session.forgotten)
        upserted_before = outbox.result.upserted
        phase = outbox.live.phase
        for batch in await in_thread(outbox.session.open_batches):
            outbox.live.enter("waitingForJobs")
            if batch.state == "submitted":
                outbox.pending.append(batch)
                outbox.jobs_changed()
            else:
                await self._send(batch)
        await self.settle()
        outbox.result.resumed = outbox.result.upserted - upserted_before
        await send_erasures(outbox)
        await self.settle()
        outbox.result.pending_erasures = await in_thread(outbox.session.pending_erasures)
        outbox.live.enter(phase)

    async def send_upserts(self, outgoing: Outgoing) -> None:
        await self._sending(lambda between: send_upserts(self.outbox, outgoing, between))

    async def send_first_export(
        self, builder: ContactBuilder, outgoing: Outgoing, staged: Staged
    ) -> int:
        """Every staged row, built as it is sent; returns the rows refused while built."""
        return await self._sending(
            lambda between: send_first_export(self.outbox, builder, outgoing, staged, between)
        )

    async def release_returning(self) -> None:
        """Leavers back in the segment whose removal settled: sent again by this run."""
        self.outbox.result.returning = await release_returning(self.outbox)

    async def forget_moved_away(self) -> None:
        """The leavers of the destination's former list: reported and forgotten."""
        await forget_moved_away(self.outbox)

    async def leavers_ahead(self) -> LeaversAhead:
        """The leavers' first pages, looked up in the background from now on."""
        return await LeaversAhead.start(self.outbox)

    async def send_removals(self, action: RemovalAction, ahead: LeaversAhead) -> None:
        """The leavers' removals, page by page, the jobs of the pages before recorded (and
        their leavers confirmed a step behind) while the next pages go."""
        settling = SettleAhead(self.outbox, self._send, self.fields)
        try:
            await send_removals(self.outbox, action, ahead, settling.between_batches)
            await settling.finish()
        finally:
            await settling.close()

    async def _sending(self, send: Callable[[Between], Awaitable[T]]) -> T:
        """A send of upserts, the jobs that end meanwhile recorded between its batches. A
        stall met during the send (a job failed as a whole: the account is full) stops it,
        no new batch started; the jobs already submitted are recorded before the run ends,
        as after a whole send, so the next run sends their contacts again."""
        ahead = SettleAhead(self.outbox, self._send, self.fields)
        try:
            sent = await send(ahead.between_batches)
            await ahead.finish()
            return sent
        except SendGridStalled:
            if self.outbox.result.stalled:  # not a batch SendGrid never confirmed
                await ahead.close()
                await self.settle()  # raises the stall it recorded
            raise
        finally:
            await ahead.close()

    async def settle(self) -> None:
        if self.outbox.pending:
            self.outbox.live.enter("waitingForJobs")
        await settle(self.outbox, self._send, self.fields)
        if self.outbox.result.stalled:
            raise SendGridStalled(self.outbox.result.stalled)

    async def pending_removals(self) -> int:
        return await in_thread(self.outbox.session.pending_removals)

    async def _send(self, batch: Batch) -> None:
        if batch.kind == "upsert":
            await send_upsert_batch(self.outbox, batch)
        else:
            await send_removal_batch(self.outbox, batch)
