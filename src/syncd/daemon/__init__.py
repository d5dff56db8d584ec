"""The composition root: wires settings, ledger, reconciler, scheduler, watcher and server.

Signals only set events: SIGTERM/SIGINT stop (a second one exits at once), SIGHUP
rescans. Per-destination failures never reach the task group; only infrastructure
failures (the server cannot bind, the watcher crashes) end the process.

The admin server can run syncs and lift the removal guard, so the daemon refuses to
start listening beyond loopback without SYNCD_ADMIN_TOKEN; metrics and health can be
served to others on a listener of their own (SYNCD_METRICS_LISTEN).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

import aiohttp

from syncd import serving
from syncd.clock import SYSTEM_CLOCK, Clock
from syncd.daemon.access import address, admin_token, host_token, listening
from syncd.errors import LedgerCorrupt, SyncdError
from syncd.ledger import Ledger, ledger_identity, open_ledger
from syncd.loading import load_directory
from syncd.logs import get_logger
from syncd.metrics import Metrics
from syncd.reconciling import Reconciler, RunReport
from syncd.reconciling.forgetting import ForgetReport, ForgetRequest, Forgetting
from syncd.reconciling.one_run import REMOVAL_RECHECK
from syncd.scheduling import Past, Scheduler
from syncd.settings import Settings
from syncd.watching import Desired, Watcher

log = get_logger("syncd.daemon")


class Signals:
    """First SIGTERM/SIGINT: stop gracefully. Second: exit now. SIGHUP: rescan."""

    def __init__(self, stop: asyncio.Event, rescan: asyncio.Event) -> None:
        self.stop = stop
        self.rescan = rescan
        self.loop = asyncio.get_running_loop()

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(sig, self._stop, sig)
        self.loop.add_signal_handler(signal.SIGHUP, self.rescan.set)

    def uninstall(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            self.loop.remove_signal_handler(sig)

    def _stop(self, sig: signal.Signals) -> None:
        if self.stop.is_set():
            log.warning("daemon.exit_now", signal=sig.name)
            os._exit(128 + sig.value)
        log.info("daemon.stopping", signal=sig.name)
        self.stop.set()


def _ledger(settings: Settings, clock: Clock) -> Ledger:
    return open_ledger(settings.state, clock=clock, keep_runs=settings.keep_runs)


def _past(ledger: Ledger, keep_runs: int) -> dict[str, Past]:
    """Every destination the ledger knows, with its kept runs: the status is restored from
    them at start, before any run."""
    drifts = ledger.drifts()
    return {
        summary.destination: Past(
            summary,
            ledger.runs(summary.destination, limit=keep_runs),
            drifts.get(summary.destination),
        )
        for summary in ledger.summaries()
    }


async def run_daemon(settings: Settings, *, clock: Clock = SYSTEM_CLOCK) -> int:
    token = admin_token(settings)
    metrics = Metrics()
    ledger = await asyncio.to_thread(_ledger, settings, clock)
    stop = asyncio.Event()
    try:
        history = await _history(ledger, settings.keep_runs)
        async with aiohttp.ClientSession() as http, contextlib.AsyncExitStack() as stack:
            reconciler = Reconciler(ledger, http, settings, metrics, clock=clock)
            scheduler = Scheduler(
                reconciler,
                metrics,
                clock,
                max_concurrent_runs=settings.max_concurrent_runs,
                backoff_max=settings.backoff_max,
                history=history,
                leases=ledger.leases(settings.replica_id, ttl=3 * settings.claim_interval),
                claim_interval=settings.claim_interval,
                stall_recheck=settings.stall_recheck,
                auditor=reconciler,
                audit_settle_window=settings.audit_settle_window,
                audit_count_tolerance=settings.audit_count_tolerance,
            )

            async def publish(desired: Desired) -> None:
                await scheduler.apply(
                    desired.destinations,
                    problems=desired.problems,
                    invalid_files=desired.invalid_files,
                    stale=desired.stale,
                )

            watcher = Watcher(
                settings.destinations,
                publish,
                metrics,
                allowlists=settings.allowlists(),
                rescan_interval=settings.rescan_interval,
                debounce=settings.debounce,
                clock=clock,
            )

            async def ready() -> str | None:
                if not watcher.loaded.is_set():
                    return "destination files not loaded yet"
                try:
                    await asyncio.wait_for(asyncio.to_thread(ledger.ping), 5)
                except SyncdError as error:
                    return error.message
                except Exception as error:  # any failure means "not ready", with its name
                    return f"ledger unreachable: {type(error).__name__}"
                return None

            forgetting = Forgetting(ledger, reconciler)

            async def forget(request: ForgetRequest) -> ForgetReport:
                """Between runs of the destinations it touches, never during one."""
                files = scheduler.destination_files()
                names = await forgetting.in_scope(request, files)

                async def work() -> ForgetReport:
                    return await forgetting.carry_out(request, files, stopping=stop.is_set)

                report = await scheduler.between_runs(names, work)
                for deletion in report.deletions:  # search lags: its runs confirm it soon
                    if deletion.outcome in ("sent", "not found yet", "waiting"):
                        scheduler.run_by(deletion.destination, clock.now() + REMOVAL_RECHECK)
                return report

            # Plans and contact lookups read the ledger through connections of their own
            # that never write, and share the runs' request budget per key.
            reader = await asyncio.to_thread(open_ledger, settings.state, writer=False)
            stack.callback(reader.close)
            planning = Reconciler(
                reader, http, settings, metrics, gates=reconciler.gates, clock=clock
            )
            planner = serving.Planner(planning, settings, stopping=stop.is_set)
            explainer = serving.Explainer(planning, settings)
            host, port = settings.listen_address
            async with host_token(settings, token) as on_this_host:
                gate = serving.AdminGate(metrics, token=token, host_token=on_this_host)
                app = serving.build_app(
                    scheduler,
                    metrics,
                    ready,
                    gate=gate,
                    ledger=ledger,
                    ledger_id=ledger_identity(settings.state),
                    forgetting=forget,
                    planner=planner,
                    explainer=explainer,
                )
                refused = metrics.connections_refused
                admin = serving.Listener(app, host, port, name="admin", refused=refused)
                async with listening(settings, metrics, admin, ready):
                    await asyncio.to_thread(ledger.announce, address(host, admin.port))
                    signals = Signals(stop, watcher.wake)
                    signals.install()
                    log.info(
                        "daemon.started",
                        listen=settings.listen,
                        metrics_listen=settings.metrics_listen,
                        destinations=str(settings.destinations),
                        state=settings.state,
                    )
                    try:
                        async with asyncio.TaskGroup() as group:
                            group.create_task(watcher.run(stop), name="watching")
                            group.create_task(scheduler.keep_claiming(stop), name="claiming")
                            group.create_task(stop.wait(), name="stop")
                    finally:
                        await scheduler.shutdown(settings.shutdown_timeout)
                        signals.uninstall()
    finally:
        await asyncio.to_thread(ledger.close)
    log.info("daemon.stopped")
    return 0


async def _history(ledger: Ledger, keep_runs: int) -> dict[str, Past]:
    """What the ledger recorded of each destination; nothing when it is damaged (every run
    then stalls naming the file, and /readyz says why, while the daemon keeps serving)."""
    try:
        return await asyncio.to_thread(_past, ledger, keep_runs)
    except LedgerCorrupt:
        return {}


async def run_once(settings: Settings, *, clock: Clock = SYSTEM_CLOCK) -> int:
    """Reconcile every destination once (for CronJobs and CI); 1 if any failed."""
    catalog = await asyncio.to_thread(load_directory, settings.destinations, settings.allowlists())
    for problem in catalog.problems:
        log.error("config.problem", problem=str(problem))
    ledger = await asyncio.to_thread(_ledger, settings, clock)
    slots = asyncio.Semaphore(settings.max_concurrent_runs)
    stop = asyncio.Event()
    signals = Signals(stop, asyncio.Event())
    signals.install()
    try:
        async with aiohttp.ClientSession() as http:
            reconciler = Reconciler(ledger, http, settings, Metrics(), clock=clock)

            async def one(name: str) -> RunReport:
                async with slots:
                    return await reconciler.run(
                        catalog.destinations[name], trigger="once", stopping=stop.is_set
                    )

            active = [n for n, d in catalog.destinations.items() if not d.definition.spec.suspend]
            reports = await asyncio.gather(*(one(name) for name in sorted(active)))
    finally:
        signals.uninstall()
        await asyncio.to_thread(ledger.close)
    failed = [r.destination for r in reports if r.outcome != "success"]
    if failed or catalog.problems or not catalog.complete:
        log.error("once.failed", destinations=failed, invalid_files=len(catalog.problems))
        return 1
    return 0
