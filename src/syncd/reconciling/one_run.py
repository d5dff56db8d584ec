"""The core of one run, in the order it happens: read → bind → diff → plan → apply.

`Reconciler.run` records the run and turns what is raised into an outcome; this module
does the work. A dry run (`syncd plan`) takes the same read, binding, diff and plan and
ends in a preview instead of the apply: it records nothing and sends nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from syncd.contacts import ContactBuilder, FieldBinding, Outgoing
from syncd.errors import SendGridRejected, SendGridUnavailable
from syncd.ledger import RETRY_BUDGET, LedgerSession, Rejection
from syncd.loading import LoadedDestination
from syncd.planning import DiffCounts, GuardStopped, Plan, decide, emptied_segments, unchanged
from syncd.reconciling.applying import Applied, Applier
from syncd.reconciling.leavers_ahead import LeaversAhead
from syncd.reconciling.previewing import preview
from syncd.reconciling.progress import RunProgress
from syncd.reconciling.reading import SegmentRead, SegmentReader
from syncd.reconciling.report import Preview, RunReport
from syncd.reconciling.staging import build_stale
from syncd.reconciling.threads import in_thread
from syncd.sendgrid import SendGridClient
from syncd.shapes import Trigger

if TYPE_CHECKING:
    from syncd.reconciling.run import Reconciler

REMOVAL_RECHECK = 60.0
"""Seconds before the next run when removals wait on SendGrid's search."""


@dataclass(frozen=True)
class RunOptions:
    """How a run was asked for."""

    trigger: Trigger = "schedule"
    allow_removals: bool = False
    dry_run: bool = False
    stopping: Callable[[], bool] = lambda: False


@dataclass
class OneRun:
    """Everything one run holds; `carry_out` is the run."""

    reconciler: Reconciler
    loaded: LoadedDestination
    session: LedgerSession
    report: RunReport
    options: RunOptions
    live: RunProgress
    run_id: int | None = None
    first_export: bool = False
    """Nothing acknowledged, nothing open: built as it is sent (reconciling/first_export.py)."""
    emptied: dict[str, int] = field(default_factory=dict)
    """Segments read empty that held rows when last read whole (`planning.decide`)."""
    key_id: str | None = None
    """The API key's id (a hash), once known: its scopes are forgotten after a 403."""

    async def carry_out(self) -> None:
        spec = self.loaded.definition.spec
        builder = ContactBuilder(spec.mapping)
        reader = SegmentReader(
            self.session, self.loaded, builder, stopping=self.options.stopping, live=self.live
        )
        try:
            await self._carry_out(reader, builder)
        except SendGridRejected as refused:
            if refused.status == 403 and self.key_id is not None:
                self.reconciler.preflight.forget(self.key_id)  # a scope taken away since
            raise
        finally:
            reader.release()  # whatever ended the run: no temporary file outlives it

    async def _carry_out(self, reader: SegmentReader, builder: ContactBuilder) -> None:
        spec = self.loaded.definition.spec
        # Everything local first: a segment over its limits fails before any request.
        try:
            self.report.staged = await reader.read()
        except GuardStopped:
            self.report.staged = reader.staged  # what the read counted until it stopped
            raise
        self.live.enter("diffing")
        client, binding = await self._bind()
        read = await reader.against(binding.digest)
        self.report.staged, self.report.read = read.staged, read.how
        before = await in_thread(self.session.segment_rows)
        self.emptied = emptied_segments(read.staged.segment_rows, before)
        if read.in_sync:
            self.report.verified = True
            self.report.plan = self._decide(unchanged(read.staged.profiles))
            if self.options.dry_run:
                self.report.preview = Preview()
            else:
                await self._record_segment_rows()
                if self.report.rejected == 0:
                    await self._record_in_sync(reader, binding.digest)
            return
        if not self.options.dry_run:  # from here SendGrid may change: forget it was equal
            await in_thread(self.session.mark_in_sync, None)
        applier = self._applier(client, binding)
        self.report.applied = applier.result
        try:
            diff = await self._diff(applier, builder, read, binding)
        except Exception:  # finishing an earlier run's batches may charge, then stall
            if not self.options.dry_run:
                with contextlib.suppress(Exception):  # the first error is the one to tell
                    await self._tell_rejections(applier)
            raise
        plan = self.report.plan = self._decide(diff)
        self.report.planned_after = asyncio.get_running_loop().time() - self.report.started
        self.live.planned(to_send=plan.upserts, to_remove=plan.removals, confirmed=applier.result)
        outgoing = Outgoing(binding, spec.mapping)
        segment_names = [s.name for s in spec.segments]
        if self.options.dry_run:
            await preview(self.session, outgoing, segment_names, self.report, client)
            return
        await self._apply(applier, plan, outgoing, builder)
        await self._record_segment_rows()  # past the guards: what the next run compares with
        if self.report.rejected == 0 and not plan.diff.held and not _open_work(applier.result):
            await self._record_in_sync(reader, binding.digest)

    async def _bind(self) -> tuple[SendGridClient, FieldBinding]:
        """The key's client and the binding of the list and custom fields (the preflight),
        with the generation of the fields' ids the ledger knows them by."""
        spec = self.loaded.definition.spec
        client, key_id = await self.reconciler.client_for(self.loaded)
        self.key_id = key_id
        self.live.held_until = client.http.gate.held_until  # the preflight may wait too
        hint = spec.sendgrid.api_key.describe()
        checked = await self.reconciler.preflight.check(client, spec, key_id=key_id, hint=hint)
        if spec.audit.on_count_mismatch and not self.options.dry_run:
            # The daemon's count check (scheduling/audits.py): the backstop for what runs
            # cannot see, a contact taken off the list behind the ledger's back.
            self.report.list_contacts = checked.list.contact_count
            self.report.expected_contacts = await in_thread(self.session.acked_count)
        binding = checked.binding
        generation = await in_thread(
            self.session.field_generation, binding.ids(), record=not self.options.dry_run
        )
        return client, replace(binding, generation=generation)

    def _applier(self, client: SendGridClient, binding: FieldBinding) -> Applier:
        return Applier(
            self.session,
            client,
            binding=binding,
            run_id=self.run_id,
            segment_names=[s.name for s in self.loaded.definition.spec.segments],
            limits=self.reconciler.limits,
            clock=self.reconciler.clock,
            stopping=self.options.stopping,
            live=self.live,
        )

    async def _diff(
        self, applier: Applier, builder: ContactBuilder, read: SegmentRead, binding: FieldBinding
    ) -> DiffCounts:
        """Work left open by an earlier run is finished first (not in a dry run), then the
        staged rows are compared with what SendGrid acknowledged."""
        if not self.options.dry_run:
            await applier.resume()
            if applier.result.batches_done:  # acknowledged since the snapshot was sorted
                await in_thread(self.session.refresh_flags)
            self.first_export = not applier.result.pending_erasures and await in_thread(
                self.session.nothing_recorded
            )
        if not self.first_export:
            await in_thread(
                build_stale,
                self.session,
                builder,
                read.staged,
                binding=binding.digest,
                segment_names=[s.name for s in self.loaded.definition.spec.segments],
                remember=not self.options.dry_run,
                rebind=not read.one_binding,
            )
            if not self.options.dry_run:  # a plan counts them held, searching nothing
                await applier.release_returning()
        return await in_thread(self.session.diff, RETRY_BUDGET, binding.on_this_list)

    def _decide(self, diff: DiffCounts) -> Plan:
        spec = self.loaded.definition.spec
        return decide(
            diff,
            on_leave=spec.on_leave,
            max_removal_fraction=spec.limits.max_removal_fraction,
            allow_removals=self.options.allow_removals,
            destination=self.loaded.definition.name,
            emptied=self.emptied,
        )

    async def _record_segment_rows(self) -> None:
        """What the next run compares with, once past the guards; and the leavers given up
        on that are still on the list, told by every run."""
        counted = self.report.staged.segment_rows
        if counted is not None:
            await in_thread(self.session.record_segment_rows, counted)
        self.report.not_removed = await in_thread(self.session.not_removed)

    async def _apply(
        self, applier: Applier, plan: Plan, outgoing: Outgoing, builder: ContactBuilder
    ) -> None:
        report = self.report
        ahead: LeaversAhead | None = None
        try:
            self.live.enter("sending")
            if self.first_export:
                dropped = await applier.send_first_export(builder, outgoing, report.staged)
                new, desired = plan.diff.new - dropped, plan.diff.desired - dropped
                report.plan = replace(plan, diff=replace(plan.diff, new=new, desired=desired))
            else:
                await applier.send_upserts(outgoing)
            if plan.diff.moved_away:  # not removals: the guard has no say on them
                await applier.forget_moved_away()
            if plan.removals:  # looked up while the upserts' jobs run; removed after them
                ahead = await applier.leavers_ahead()
            await applier.settle()
            if plan.removal_action == "forget":
                await self._forget_gone()
            elif ahead is not None:
                self.live.enter("removing")
                await applier.send_removals(plan.removal_action, ahead)
                await applier.settle()
                applier.result.pending_removals = await applier.pending_removals()
        finally:
            if ahead is not None:
                await ahead.close()
            await self._tell_rejections(applier)
        if _open_work(applier.result):
            report.requeue_after = REMOVAL_RECHECK
        if applier.result.failed_jobs:
            raise SendGridUnavailable(
                f"{applier.result.failed_jobs} SendGrid job(s) failed; their contacts are sent "
                "again on the next run"
            )
        if plan.removal_guard:
            raise GuardStopped(plan.removal_guard)

    async def _tell_rejections(self, applier: Applier) -> None:
        """What the run reports as not carried out: the contacts given up on, then those
        charged a retry whose refusal still stands (one line each, the last reason)."""
        report = self.report
        names = [s.name for s in self.loaded.definition.spec.segments]
        given_up = await in_thread(self.session.exhausted, RETRY_BUDGET, names)
        given_emails = {r.email for r in given_up}
        retried: dict[object, Rejection] = {}
        for r in applier.result.rejections:
            if r.segment and r.email in given_emails:  # told among those given up on
                continue
            retried[r.email if r.segment and r.email else id(r)] = r  # charged twice: once
        # A contact charged while an earlier batch was settled, then sent again and applied
        # in this run, was counted rejected by a run that landed it.
        charged = [r.email for r in retried.values() if r.segment and r.email]
        standing = await in_thread(self.session.still_charged, charged) if charged else set()
        report.rejections = [
            *given_up,
            *(r for r in retried.values() if not (r.segment and r.email) or r.email in standing),
        ]
        report.moved_away = applier.result.moved_away

    async def _forget_gone(self) -> None:
        """`onLeave: keep`: leavers stay on the list and leave the ledger."""
        while page := await in_thread(self.session.gone, "", 5000):
            await in_thread(self.session.forget, page)

    async def _record_in_sync(self, reader: SegmentReader, binding: int) -> None:
        """SendGrid now equals these sources: the next run can tell from their bytes."""
        record = await reader.in_sync_record(binding)
        if record is not None:
            await in_thread(self.session.mark_in_sync, record)


def _open_work(applied: Applied) -> bool:
    """Removals, erasures, acknowledgements or re-adds that wait on SendGrid's search:
    checked again soon."""
    return bool(
        applied.pending_removals
        or applied.pending_erasures
        or applied.awaiting_search
        or applied.returning
    )
