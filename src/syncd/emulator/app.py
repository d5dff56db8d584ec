"""The emulator as a whole: its aiohttp application, its state, and a way to run it."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator

from aiohttp import web

from syncd.emulator import admin, rules
from syncd.emulator.applying import apply_job
from syncd.emulator.config import EmulatorConfig
from syncd.emulator.exports import ExportRunner
from syncd.emulator.faults import FaultBook
from syncd.emulator.handlers import add_api_routes
from syncd.emulator.jobs import Job, JobRunner
from syncd.emulator.pipeline import v3_pipeline
from syncd.emulator.profiles import Behaviour
from syncd.emulator.ratelimit import RateLimiter
from syncd.emulator.recording import Exchange, RequestRecord
from syncd.emulator.search_index import SearchIndex
from syncd.emulator.services import SERVICES, Services
from syncd.emulator.store import Store
from syncd.emulator.validation import InvalidRequestError


class Emulator:
    """One emulated SendGrid account. `app` serves it; the rest is for tests to look inside."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config = config or EmulatorConfig()
        faults = FaultBook(random.Random(config.random_seed))
        store = Store(config.wall_clock)

        def behaviour() -> Behaviour:  # the knobs as they are now: the admin API changes them
            return services.behaviour

        search = SearchIndex(store, lambda: behaviour().search_lag)
        store.before_change = search.before_change
        self.services = services = Services(
            config=config,
            store=store,
            search=search,
            jobs=JobRunner(
                lambda job: apply_job(job, store, behaviour()),
                faults,
                config.job_delay,
                config.wall_clock,
            ),
            exports=ExportRunner(store, config.wall_clock),
            faults=faults,
            limiter=RateLimiter(config.budget_for, config.wall_clock),
            api_keys=dict(config.api_keys),
        )
        try:
            self.services.start()
        except InvalidRequestError as invalid:
            raise ValueError(f"invalid seed: {invalid.message}") from None
        self.app = self._build_app()
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[v3_pipeline], client_max_size=rules.MAX_READ_BYTES)
        app[SERVICES] = self.services
        add_api_routes(app)
        app.add_routes(admin.routes)
        app.cleanup_ctx.append(self._run_jobs)
        return app

    async def _run_jobs(self, app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(self.services.jobs.run(), name="syncd-emulator-jobs")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await self.services.exports.close()

    # --- looking inside ------------------------------------------------------------------

    @property
    def state(self) -> Store:
        return self.services.store

    @property
    def faults(self) -> FaultBook:
        return self.services.faults

    @property
    def requests(self) -> list[RequestRecord]:
        return self.services.requests

    @property
    def exchanges(self) -> list[Exchange]:
        """Whole exchanges; recorded only with `EmulatorConfig(record_exchanges=True)`."""
        return self.services.exchanges

    @property
    def jobs(self) -> dict[str, Job]:
        return self.services.jobs.jobs

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the emulator is not serving; use running_emulator() or start()")
        return self._url

    def count_requests(
        self, *, method: str | None = None, template: str | None = None, status: int | None = None
    ) -> int:
        return sum(
            1
            for record in self.requests
            if (method is None or record.method == method)
            and (template is None or record.template == template)
            and (status is None or record.status == status)
        )

    def write_requests(self) -> list[RequestRecord]:
        """The requests that may change the account: PUT, PATCH, DELETE, creating POSTs."""
        return [record for record in self.requests if record.is_write]

    # --- steering ------------------------------------------------------------------------

    async def settle(self) -> None:
        """Applies every pending job now, whatever its delay, so tests need not wait."""
        self.services.jobs.settle()
        await asyncio.sleep(0)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serves over HTTP (port 0: any free port); returns the base URL."""
        runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound_port = runner.addresses[0][1]
        url_host = f"[{host}]" if ":" in host else host
        self._url = f"http://{url_host}:{bound_port}"
        return self._url

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner, self._url = self._runner, None, None
            await runner.cleanup()


@contextlib.asynccontextmanager
async def running_emulator(
    config: EmulatorConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[Emulator]:
    """An emulator serving real HTTP for the duration of the block."""
    emulator = Emulator(config)
    await emulator.start(host, port)
    try:
        yield emulator
    finally:
        await emulator.stop()
