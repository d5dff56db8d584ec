"""One run for one destination: read → plan → apply → acknowledge. Never decides *when*."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

import aiohttp

from syncd.clock import SYSTEM_CLOCK, Clock
from syncd.contacts import ContactBuilder, FieldBinding, Outgoing
from syncd.errors import (
    PermanentError,
    SendGridUnavailable,
    SyncdError,
    TemporaryError,
)
from syncd.ledger import RETRY_BUDGET, Ledger, LedgerSession
from syncd.loading import LoadedDestination
from syncd.logs import get_logger
from syncd.metrics import Metrics
from syncd.planning import GuardStopped, decide, require_consent, unchanged
from syncd.reconciling.applying import Applied, Applier, Limits, Progress, no_progress
from syncd.reconciling.connecting import destination_client
from syncd.reconciling.observing import RunObserver
from syncd.reconciling.preflight import Preflight
from syncd.reconciling.previewing import preview
from syncd.reconciling.progress import RunProgress
from syncd.reconciling.reading import SegmentReader
from syncd.reconciling.report import Preview, RunReport
from syncd.reconciling.staging import build_stale
from syncd.reconciling.threads import in_thread, session_of
from syncd.sendgrid import Lookup, RateGates, SendGridClient
from syncd.settings import Settings

log = get_logger("syncd.reconciling")
REMOVAL_RECHECK = 60.0
"""Seconds before the next run when removals wait on SendGrid's search."""


class Reconciler:
    def __init__(
        self,
        ledger: Ledger,
        http: aiohttp.ClientSession,
        settings: Settings,
        metrics: Metrics,
        *,
        gates: RateGates | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.ledger = ledger
        self.http = http
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        self.gates = gates or RateGates(clock, requests_per_second=settings.requests_per_second)
        self.observer = RunObserver(metrics, clock)
        self.preflight = Preflight(clock)
        self.limits = Limits(
            job_timeout=settings.job_timeout,
            poll_max_interval=settings.job_poll_max_interval,
            unknown_job_grace=settings.unknown_job_grace,
            max_batch_sends=settings.max_batch_sends,
            removal_window=settings.removal_window,
        )

    async def run(
        self,
        loaded: LoadedDestination,
        *,
        trigger: str = "schedule",
        allow_removals: bool = False,
        dry_run: bool = False,
        stopping: Callable[[], bool] = lambda: False,
        progress: Progress = no_progress,
        live: RunProgress | None = None,
    ) -> RunReport:
        """One run. `progress` is told of each step (the CLI's line); `live` is kept
        current for whoever asks how far the run is (the status, a metric)."""
        name = loaded.definition.name
        report = RunReport(name, trigger)
        live = live or RunProgress(self.clock)
        if not dry_run:
            progress = self.observer.tracking_jobs(name, progress)
        loop = asyncio.get_running_loop()
        started = report.started = loop.time()
        run_id: int | None = None
        try:
            require_consent(loaded.definition.spec.consent.data_privacy_acknowledged)
            async with session_of(self.ledger, name) as session:
                if not dry_run:
                    report.started_at = self.clock.now()
                    run_id = await in_thread(
                        session.begin_run, trigger, loaded.digest, started_at=report.started_at
                    )
                    live.run_id = run_id
                try:
                    await self._reconcile(
                        loaded,
                        session,
                        report,
                        run_id,
                        allow_removals,
                        dry_run,
                        stopping,
                        progress,
                        live,
                    )
                    report.outcome = "success"
                except SyncdError as error:
                    report.outcome, report.error = error.outcome, error.message
                    if isinstance(error, GuardStopped):
                        report.guard = error.stop
                    if isinstance(error, TemporaryError):
                        report.retry_after = error.retry_after
                    elif isinstance(error, PermanentError):
                        report.recheck = error.recheck
                except asyncio.CancelledError:
                    report.outcome, report.error = "temporary", "interrupted by shutdown"
                    raise
                except Exception as error:
                    log.exception("reconcile.unexpected", destination=name)
                    report.outcome, report.error = "unexpected", f"{type(error).__name__}: {error}"
                finally:
                    report.duration = loop.time() - started
                    report.ended_at = self.clock.now()
                    if run_id is not None:
                        await asyncio.shield(self._finish(session, run_id, report))
        except SyncdError as error:  # before a run could be recorded (consent, ledger)
            report.outcome, report.error = error.outcome, error.message
            if isinstance(error, GuardStopped):
                report.guard = error.stop
        report.duration = loop.time() - started
        report.run_id = run_id
        report.ended_at = report.ended_at or self.clock.now()
        if not dry_run:
            self.observer.finished(report)
        return report

    async def _reconcile(
        self,
        loaded: LoadedDestination,
        session: LedgerSession,
        report: RunReport,
        run_id: int | None,
        allow_removals: bool,
        dry_run: bool,
        stopping: Callable[[], bool],
        progress: Progress,
        live: RunProgress,
    ) -> None:
        spec = loaded.definition.spec
        builder = ContactBuilder(spec.mapping)
        progress("reading")
        reader = SegmentReader(session, loaded, builder, stopping=stopping, live=live)
        report.staged = await reader.read()
        progress("staged", profiles=report.staged.profiles, rows=report.staged.rows)
        live.enter("diffing")
        client, key_id = await self.client_for(loaded)
        hint = spec.sendgrid.api_key.describe()
        checked = await self.preflight.check(client, spec, key_id=key_id, hint=hint)
        binding = checked.binding
        generation = await in_thread(session.field_generation, binding.ids(), record=not dry_run)
        binding = replace(binding, generation=generation)
        if await reader.unchanged(binding.digest):
            report.staged = reader.staged
            report.plan = decide(
                unchanged(report.staged.profiles),
                on_leave=spec.on_leave,
                max_removal_fraction=spec.limits.max_removal_fraction,
                allow_removals=allow_removals,
                destination=loaded.definition.name,
            )
            report.preview = Preview() if dry_run else None
            report.verified = True
            report.read = reader.how
            if not dry_run and report.rejected == 0:
                await self._record_in_sync(session, reader, binding.digest)
            return
        report.staged = reader.staged
        report.read = reader.how
        if not dry_run:  # from here SendGrid may change: forget it was known equal
            await in_thread(session.mark_in_sync, None)
        applier = Applier(
            session,
            client,
            binding=binding,
            run_id=run_id,
            segment_names=[s.name for s in spec.segments],
            limits=self.limits,
            clock=self.clock,
            stopping=stopping,
            progress=progress,
            live=live,
        )
        report.applied = applier.result
        if not dry_run:
            await applier.resume()
            if applier.result.batches_done:  # acknowledged since the snapshot was sorted
                await in_thread(session.refresh_flags)
        # A first export builds as it sends (reconciling/first_export.py).
        first = not dry_run and not applier.result.pending_erasures
        first = first and await in_thread(session.nothing_recorded)
        if not first:
            await in_thread(
                build_stale,
                session,
                builder,
                report.staged,
                binding=binding.digest,
                segment_names=[s.name for s in spec.segments],
                remember=not dry_run,
            )
        diff = await in_thread(session.diff, RETRY_BUDGET)
        report.plan = decide(
            diff,
            on_leave=spec.on_leave,
            max_removal_fraction=spec.limits.max_removal_fraction,
            allow_removals=allow_removals,
            destination=loaded.definition.name,
        )
        report.planned_after = asyncio.get_running_loop().time() - report.started
        progress("planned", upserts=report.plan.upserts, removals=report.plan.removals)
        plan = report.plan
        live.planned(to_send=plan.upserts, to_remove=plan.removals, confirmed=applier.result)
        outgoing = Outgoing(binding, spec.mapping)
        if dry_run:
            await preview(session, outgoing, [s.name for s in spec.segments], report, client)
            return
        try:
            live.enter("sending")
            if first:
                dropped = await applier.send_first_export(builder, outgoing, report.staged)
                new, desired = plan.diff.new - dropped, plan.diff.desired - dropped
                report.plan = replace(plan, diff=replace(plan.diff, new=new, desired=desired))
            else:
                await applier.send_upserts(outgoing)
            await applier.settle()
            if plan.removal_action == "forget":
                await self._forget_gone(session)
            elif plan.removals_blocked is None and plan.diff.gone:
                live.enter("removing")
                await applier.send_removals(plan.removal_action)
                await applier.settle()
                applier.result.pending_removals = await applier.pending_removals()
        finally:
            given_up = await in_thread(session.exhausted, RETRY_BUDGET)
            seen = {(r.segment, r.row, r.email) for r in given_up}
            retried = [
                r for r in applier.result.rejections if (r.segment, r.row, r.email) not in seen
            ]
            report.rejections = [*given_up, *retried]
        if _open_work(applier.result):
            report.requeue_after = REMOVAL_RECHECK
        if applier.result.failed_jobs:
            raise SendGridUnavailable(
                f"{applier.result.failed_jobs} SendGrid job(s) failed; their contacts are sent "
                "again on the next run"
            )
        if plan.removal_guard:
            raise GuardStopped(plan.removal_guard)
        if report.rejected == 0 and not plan.diff.held and not _open_work(applier.result):
            await self._record_in_sync(session, reader, binding.digest)

    @staticmethod
    async def _record_in_sync(session: LedgerSession, reader: SegmentReader, binding: int) -> None:
        """SendGrid now equals these sources: the next run can tell from their bytes."""
        record = await reader.in_sync_record(binding)
        if record is not None:
            await in_thread(session.mark_in_sync, record)

    async def client_for(self, loaded: LoadedDestination) -> tuple[SendGridClient, str]:
        """The client for a destination's key, and the key's identity (a hash)."""
        return await destination_client(loaded, self.settings, self.http, self.gates, self.metrics)

    async def look_up(self, loaded: LoadedDestination, email: str) -> tuple[Lookup, FieldBinding]:
        """What SendGrid's search shows for one address now, and the binding of the
        destination's custom fields (to compare it with what syncd sends): read requests."""
        client, _ = await self.client_for(loaded)
        binding = await self.preflight.binding(client, loaded.definition.spec)
        return await client.lookup([email]), binding

    async def _forget_gone(self, session: LedgerSession) -> None:
        while page := await in_thread(session.gone, "", 5000):
            await in_thread(session.forget, page)

    async def _finish(self, session: LedgerSession, run_id: int, report: RunReport) -> None:
        await in_thread(
            session.record_rejections, run_id, [*report.staged.rejections, *report.rejections]
        )
        await in_thread(
            session.finish_run,
            run_id,
            report.outcome,
            report.counts(),
            report.error,
            ended_at=report.ended_at,
        )


def _open_work(applied: Applied) -> bool:
    """Removals or erasures that wait on SendGrid's search: checked again soon."""
    return bool(applied.pending_removals or applied.pending_erasures)
