"""The harness behind syncd's delivery guarantees (docs/guarantees.md).

A `Scene` is one world: a source segment that can be churned, a destination file, a
ledger file, the in-process emulator (real HTTP), and syncd itself run as a real
subprocess (`python -m syncd sync NAME`, `syncd run`), optionally with failpoints armed
through `SYNCD_FAILPOINTS`. Once the scene is quiet, `audit()` compares what SendGrid
(the emulator) holds with the final source and walks the emulator's request log to
count what was sent, re-sent, and why:

- **lost**: a contact whose value in SendGrid differs from its final source value
  (or is missing from the list), plus any contact left on the list that left the segment;
- a **repeat** is a contact sent with the same payload as its previous send; each is
  either a **retry** (the previous job did not apply it: failed, rejected), a
  **redundant** send (the previous job applied it, but syncd had not seen that job end:
  a crash or an ambiguous outcome), or an **unnecessary** send (syncd had already seen
  a job apply exactly this payload, i.e. its fingerprint was acknowledged);
- an **overlap** is a contact sent with a new value while a job carrying an older value
  of it was still open from syncd's point of view (two open batches); a re-send of the
  same batch (same value) is not an overlap.

Every text syncd produced in a scene (command output, daemon logs, metric scrapes,
status bodies) is kept, and checked at the end for the API key, the DSN password and
every address ever in the segment: none may appear (docs/guarantees.md, "Secrets and
personal data").
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from syncd.clock import SYSTEM_CLOCK, Clock
from syncd.emulator import Emulator
from syncd.ledger import open_ledger
from syncd.loading import load_directory
from syncd.metrics import Metrics
from syncd.reconciling import Reconciler, RunReport
from syncd.sendgrid import RateGates
from syncd.settings import Settings
from tests.guarantees.audit import Audit, audit, rate_limit_violations
from tests.guarantees.common import (
    API_KEY,
    DSN_PASSWORD,
    FAILPOINT_EXIT,
    JOB,
    LIST_ID,
    NAME,
    REMOVE,
    UPSERT,
    harness_config,
    record_figure,
    seed,
)
from tests.guarantees.processes import (
    Completed,
    SyncdProcess,
    _syncd_argv,
    contacts_in_two_open_batches,
    open_batches,
)
from tests.guarantees.source import Segment

__all__ = [
    "API_KEY",
    "DSN_PASSWORD",
    "FAILPOINT_EXIT",
    "JOB",
    "LIST_ID",
    "REMOVE",
    "UPSERT",
    "Completed",
    "Scene",
    "SyncdProcess",
    "contacts_in_two_open_batches",
    "harness_config",
    "open_batches",
    "rate_limit_violations",
    "record_figure",
    "seed",
    "wait_for",
]


# -- the scene -----------------------------------------------------------------------------------


class Scene:
    """One destination, its segment, its ledger and the emulator; syncd run around them."""

    def __init__(
        self,
        root: Path,
        emulator: Emulator,
        *,
        size: int = 100,
        seed: int = 1,
        name: str = NAME,
        list_id: str = LIST_ID,
    ) -> None:
        self.root = root
        self.emulator = emulator
        self.name = name
        self.list_id = list_id
        self.destinations = root / "destinations.d"
        self.data = root / "data"
        self.secrets = root / "secrets"
        for directory in (self.destinations, self.data, self.secrets):
            directory.mkdir(exist_ok=True)
        self.key_file = self.secrets / "sendgrid-api-key"
        self.key_file.write_text(API_KEY + "\n")
        self.state = root / "state.db"
        self.segment = Segment(self.data / f"{name}.csv", size=size, seed=seed)
        self.segment.write()
        self.texts: list[str] = []
        self.logs: list[Path] = []
        self.processes: list[SyncdProcess] = []
        self.canaries: set[str] = {API_KEY, API_KEY.split(".", 2)[2], DSN_PASSWORD}
        self.base_env: dict[str, str] = {
            "SYNCD_SENDGRID_BASE_URL": emulator.url,
            "SYNCD_DESTINATIONS": str(self.destinations),
            # The destination reads its key as {file: ../secrets/sendgrid-api-key}.
            "SYNCD_SECRET_DIRS": str(self.secrets),
            "SYNCD_STATE": str(self.state),
            "SYNCD_LOG_FORMAT": "json",
            "SYNCD_JOB_POLL_MAX_INTERVAL": "0.1",
            "SYNCD_RESCAN_INTERVAL": "1",
            "SYNCD_DEBOUNCE": "0.1",
            "SYNCD_BACKOFF_MAX": "1",
        }
        self.write_destination()

    # -- files ---------------------------------------------------------------------------
    def destination_document(self, **spec: Any) -> dict[str, Any]:
        return {
            "apiVersion": "syncd/v1",
            "kind": "SendGridDestination",
            "metadata": {"name": self.name},
            "spec": {
                "sendgrid": {
                    "apiKey": {"file": "../secrets/sendgrid-api-key"},
                    "listId": self.list_id,
                },
                "consent": {"dataPrivacyAcknowledged": True},
                "segments": [
                    {"name": "main", "source": {"csv": {"path": f"../data/{self.name}.csv"}}}
                ],
                "mapping": {
                    "email": "Email",
                    "first_name": "FirstName",
                    "last_name": "LastName",
                    "custom_fields": {"loyalty_tier": "Tier"},
                },
                **spec,
            },
        }

    def write_destination(self, **spec: Any) -> Path:
        path = self.destinations / f"{self.name}.yaml"
        path.write_text(yaml.safe_dump(self.destination_document(**spec), sort_keys=False))
        return path

    # -- running syncd ---------------------------------------------------------------------
    def env(self, failpoints: str | None = None, **extra: str) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("SYNCD_")}
        env = {**inherited, **self.base_env, **extra}
        if failpoints:
            env["SYNCD_FAILPOINTS"] = failpoints
        return env

    async def cli(
        self,
        *args: str,
        failpoints: str | None = None,
        env: Mapping[str, str] | None = None,
        within: float = 60,
    ) -> Completed:
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *_syncd_argv(args),
            env=dict(env) if env is not None else self.env(failpoints),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), within)
        except TimeoutError:
            process.kill()
            out, err = await process.communicate()
            shown = (out + err).decode(errors="replace")
            raise AssertionError(
                f"syncd {' '.join(args)} did not end in {within}s:\n{shown}"
            ) from None
        assert process.returncode is not None
        done = Completed(
            tuple(args),
            process.returncode,
            out.decode(errors="replace"),
            err.decode(errors="replace"),
            time.monotonic() - started,
        )
        self.texts.append(done.text)
        return done

    async def sync(self, failpoints: str | None = None, **extra: str) -> Completed:
        return await self.cli("sync", self.name, env=self.env(failpoints, **extra))

    async def until_quiet(self, *, max_runs: int = 8, **extra: str) -> list[Completed]:
        """`syncd sync` until a run succeeds without writing anything to SendGrid and with
        no removal left waiting for SendGrid's search to catch up (it lags behind jobs)."""
        runs: list[Completed] = []
        for _ in range(max_runs):
            writes = len(self.emulator.write_requests())
            done = await self.sync(**extra)
            runs.append(done)
            pending = self.pending_removals()
            if done.code == 0 and len(self.emulator.write_requests()) == writes and not pending:
                return runs
            if pending:
                await asyncio.sleep(self.emulator.config.search_lag / 2)
        raise AssertionError(
            f"not quiet after {max_runs} runs:\n" + "\n".join(r.describe() for r in runs)
        )

    async def searchable(self) -> None:
        """Wait until SendGrid's search shows what the jobs so far did."""
        await asyncio.sleep(self.emulator.config.search_lag)

    def pending_removals(self) -> int:
        """Leavers the last run could not confirm off the list yet."""
        ledger = open_ledger(str(self.state), writer=False)
        try:
            runs = ledger.runs(self.name, limit=1)
        finally:
            ledger.close()
        return int(runs[0].counts.get("pending_removals", 0)) if runs else 0

    async def sync_here(
        self,
        settings: Mapping[str, Any] | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        gates: RateGates | None = None,
        **options: Any,
    ) -> RunReport:
        """One run inside the test process (set-up and checks; the scenarios use processes).
        Runs that pass the same `gates` share what SendGrid said of its rate-limit windows,
        as the runs of one daemon do."""
        chosen: dict[str, Any] = {
            "destinations": self.destinations,
            "secret_dirs": (self.secrets,),
            "state": str(self.state),
            "sendgrid_base_url": self.emulator.url,
            "job_poll_max_interval": 0.05,
            "job_timeout": 30,
            **(settings or {}),
        }
        process_settings = Settings(**chosen)
        catalog = load_directory(self.destinations, process_settings.allowlists())
        assert not catalog.problems, [str(p) for p in catalog.problems]
        ledger = open_ledger(process_settings.state)
        try:
            async with aiohttp.ClientSession() as http:
                reconciler = Reconciler(
                    ledger, http, process_settings, Metrics(), clock=clock, gates=gates
                )
                report = await reconciler.run(catalog.destinations[self.name], **options)
        finally:
            ledger.close()
        self.texts.append(f"{report.error or ''} {report.rejections}")
        return report

    def daemon(self, *args: str, pid1: bool = False, **extra: str) -> SyncdProcess:
        return SyncdProcess(self, self.env(**extra), args or ("run",), pid1=pid1)

    # -- checking ----------------------------------------------------------------------------
    async def audit(self, *, settle: bool = True) -> Audit:
        return await audit(
            self.emulator, self.segment.expected(), list_id=self.list_id, settle=settle
        )

    @contextlib.asynccontextmanager
    async def jobs_done_at_once(self) -> AsyncIterator[None]:
        """Within the block SendGrid finishes every job as soon as it is created."""

        async def settling() -> None:
            while True:
                await self.emulator.settle()
                await asyncio.sleep(0.02)

        task = asyncio.create_task(settling(), name="harness:settling")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        """Kill whatever a failed test left running (a passing one stopped it already)."""
        for process in self.processes:
            await process.kill()

    def converged(self) -> bool:
        """No job pending and the list equal to the segment, value for value (cheap)."""
        if self.emulator.services.jobs.pending:
            return False
        state = self.emulator.state
        expected = self.segment.expected()
        if state.list_members(self.list_id) != expected.keys():
            return False
        field_id = state.field_id("loyalty_tier")
        for email, person in expected.items():
            stored = state.contact(email) or {}
            custom = stored.get("custom_fields")
            if (
                stored.get("last_name") != person.last
                or not isinstance(custom, dict)
                or custom.get(field_id) != person.tier
            ):
                return False
        return True

    async def until_converged(self, within: float) -> bool:
        """Wait (bounded) for a running daemon to make the list right; False if it did not."""
        try:
            async with asyncio.timeout(within):
                while not self.converged():
                    await asyncio.sleep(0.1)
        except TimeoutError:
            return False
        return True

    def leaks(self, extra: Iterable[str] = ()) -> list[str]:
        """Canaries (the key, the DSN password, any address of the segment) found in
        anything syncd printed or served in this scene."""
        texts = [*self.texts, *(p.read_text(errors="replace") for p in self.logs if p.exists())]
        everything = "\n".join(texts)
        lowered = everything.lower()
        found = [c for c in (*self.canaries, *extra) if c in everything]
        found += [e for e in sorted(self.segment.ever) if e.lower() in lowered]
        return found


async def wait_for(
    condition: Callable[[], Awaitable[bool]], within: float, step: float = 0.05
) -> None:
    async with asyncio.timeout(within):
        while not await condition():
            await asyncio.sleep(step)
