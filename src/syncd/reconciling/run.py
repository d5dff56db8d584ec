"""One run for one destination: read → plan → apply → acknowledge. Never decides *when*."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

import aiohttp

from syncd.clock import SYSTEM_CLOCK, Clock
from syncd.contacts import FieldBinding
from syncd.errors import (
    PermanentError,
    SyncdError,
    TemporaryError,
)
from syncd.ledger import Ledger, LedgerSession
from syncd.loading import LoadedDestination
from syncd.logs import get_logger
from syncd.metrics import Metrics
from syncd.planning import GuardStopped, require_consent
from syncd.reconciling.applying import Limits
from syncd.reconciling.connecting import destination_client
from syncd.reconciling.observing import RunObserver
from syncd.reconciling.one_run import OneRun, RunOptions
from syncd.reconciling.preflight import Preflight
from syncd.reconciling.progress import RunProgress
from syncd.reconciling.report import RunReport
from syncd.reconciling.threads import in_thread, session_of
from syncd.sendgrid import Lookup, RateGates, SendGridClient
from syncd.settings import Settings
from syncd.shapes import AuditReport, Trigger

if TYPE_CHECKING:
    from syncd.reconciling.auditing import AuditRequest

log = get_logger("syncd.reconciling")


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
            stuck_job_after=settings.stuck_job_after,
            max_batch_sends=settings.max_batch_sends,
            removal_window=settings.removal_window,
            search_lag_grace=settings.search_lag_grace,
        )

    async def run(
        self,
        loaded: LoadedDestination,
        *,
        trigger: Trigger = "schedule",
        allow_removals: bool = False,
        dry_run: bool = False,
        stopping: Callable[[], bool] = lambda: False,
        live: RunProgress | None = None,
    ) -> RunReport:
        """One run (`one_run`), recorded in the ledger unless it is a dry run; `live` is
        kept current for whoever asks how far the run is (the status, a metric)."""
        name = loaded.definition.name
        options = RunOptions(trigger, allow_removals, dry_run, stopping)
        report = RunReport(name, trigger)
        live = live or RunProgress(self.clock)
        if not dry_run:
            live.on_jobs = self.observer.jobs_hook(name)
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
                    await OneRun(self, loaded, session, report, options, live, run_id).carry_out()
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

    async def client_for(self, loaded: LoadedDestination) -> tuple[SendGridClient, str]:
        """The client for a destination's key, and the key's identity (a hash)."""
        return await destination_client(loaded, self.settings, self.http, self.gates, self.metrics)

    async def look_up(self, loaded: LoadedDestination, email: str) -> tuple[Lookup, FieldBinding]:
        """What SendGrid's search shows for one address now, and the binding of the
        destination's custom fields (to compare it with what syncd sends): read requests."""
        client, _ = await self.client_for(loaded)
        binding = await self.preflight.binding(client, loaded.definition.spec)
        return await client.lookup([email]), binding

    async def audit(
        self,
        loaded: LoadedDestination,
        request: AuditRequest,
        *,
        stopping: Callable[[], bool] = lambda: False,
        live: RunProgress | None = None,
    ) -> AuditReport:
        """An audit of the destination (`reconciling.auditing`), with this reconciler's
        client, preflight and limits; a heal is a run of this reconciler."""
        from syncd.reconciling.auditing import Auditor  # builds on this module

        return await Auditor(self).audit(loaded, request, stopping=stopping, live=live)

    async def _finish(self, session: LedgerSession, run_id: int, report: RunReport) -> None:
        await in_thread(session.record_rejections, run_id, report.not_carried_out)
        await in_thread(
            session.finish_run,
            run_id,
            report.outcome,
            report.counts(),
            report.error,
            ended_at=report.ended_at,
            read=report.read,
        )
