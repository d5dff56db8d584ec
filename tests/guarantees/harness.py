"""The harness behind syncd's delivery guarantees (reliability.md §1 and §7).

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
every address ever in the segment: none may appear (reliability.md §5).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import os
import random
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from syncd.clock import SYSTEM_CLOCK, Clock
from syncd.emulator import ALL_SCOPES, Emulator, EmulatorConfig
from syncd.emulator.jobs import ListRemovalWork, UpsertWork
from syncd.ledger import open_ledger
from syncd.loading import load_directory
from syncd.metrics import Metrics
from syncd.reconciling import Reconciler, RunReport
from syncd.settings import Settings
from tests.daemon.process import free_port
from tests.fixtures_emulator import TEST_LIST_ID, default_emulator_config

# A canary key, shaped like a real one ("SG." + 22 + "." + 43): it must never be printed.
API_KEY = "SG.CANARYkey-guarantees0.CANARYsecret-0123456789abcdefghijklmnopqrstu"
# A canary DSN password, for the scenarios with a PostgreSQL source.
DSN_PASSWORD = "CANARYPW-x7Qm2Lk9"
LIST_ID = TEST_LIST_ID
NAME = "members"

UPSERT = "PUT /v3/marketing/contacts"
REMOVE = "DELETE /v3/marketing/lists/{id}/contacts"
JOB = "GET /v3/marketing/contacts/imports/{id}"
TERMINAL = ("completed", "errored", "failed")
FAILPOINT_EXIT = 86
REMOVED = "<removed from the list>"

# The figures each row measured, printed and (with SYNCD_FIGURES_FILE) appended as JSON lines.
FIGURES_FILE = os.environ.get("SYNCD_FIGURES_FILE")


def seed() -> int:
    """The random seed of the randomised scenarios: SYNCD_TEST_SEED, or a fixed default."""
    return int(os.environ.get("SYNCD_TEST_SEED", "20251129"))


def record_figure(row: str, **figures: Any) -> None:
    line = json.dumps({"row": row, **figures}, sort_keys=True, default=str)
    print(f"FIGURE {line}")
    if FIGURES_FILE:
        with Path(FIGURES_FILE).open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def harness_config(**overrides: Any) -> EmulatorConfig:
    """The fixtures' account, with the canary key as the only accepted key."""
    settings: dict[str, Any] = {"api_keys": {API_KEY: ALL_SCOPES}, **overrides}
    return default_emulator_config(**settings)


# -- the source ------------------------------------------------------------------------


TIERS = ("bronze", "silver", "gold", "platinum")
COLUMNS = ("Email", "FirstName", "LastName", "Tier")


@dataclass
class Person:
    first: str
    last: str
    tier: str


class Segment:
    """A customer segment written to a CSV file; churn it and write it again.

    Addresses are written in mixed case (`Guarantee.Person7@Example.com`): syncd
    normalises them, the audit compares lower-cased.
    """

    def __init__(self, path: Path, *, size: int, seed: int, prefix: str = "Guarantee") -> None:
        self.path = path
        self.rng = random.Random(seed)
        self.prefix = prefix
        self.version = 0
        self.numbers = 0
        self.people: dict[str, Person] = {}
        self.ever: set[str] = set()
        self.extra_rows: list[dict[str, str]] = []
        """Rows written as they are after the people (invalid ones, for rejection tests)."""
        self.add(size)

    def address(self, number: int) -> str:
        return f"{self.prefix}.Person{number}@Example.com"

    def add(self, count: int) -> list[str]:
        added = []
        for _ in range(count):
            self.numbers += 1
            email = self.address(self.numbers)
            self.people[email] = Person(
                f"F{self.numbers}", f"L{self.numbers}v{self.version}", self.rng.choice(TIERS)
            )
            self.ever.add(email)
            added.append(email)
        return added

    def change(self, count: int, *, emails: Sequence[str] | None = None) -> list[str]:
        """A new value for `count` random people (or for those given)."""
        self.version += 1
        chosen = list(emails) if emails is not None else self._pick(count)
        for email in chosen:
            person = self.people[email]
            number = email.split("Person")[1].split("@")[0]
            person.last = f"L{number}v{self.version}"
            person.tier = self.rng.choice(TIERS)
        return chosen

    def remove(self, count: int) -> list[str]:
        chosen = self._pick(count)
        for email in chosen:
            del self.people[email]
        return chosen

    def churn(self, *, changes: int = 0, adds: int = 0, removes: int = 0) -> None:
        self.remove(removes)
        self.change(changes)
        self.add(adds)

    def _pick(self, count: int) -> list[str]:
        return self.rng.sample(sorted(self.people), min(count, len(self.people)))

    def write(self) -> None:
        """Atomically, as an export job would: a reader sees the old file or the new one."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for email, p in self.people.items():
            writer.writerow((email, p.first, p.last, p.tier))
        for row in self.extra_rows:
            writer.writerow([row.get(column, "") for column in COLUMNS])
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(buffer.getvalue(), encoding="utf-8")
        temporary.replace(self.path)

    def expected(self) -> dict[str, Person]:
        return {email.lower(): person for email, person in self.people.items()}


# -- what syncd printed ------------------------------------------------------------------


@dataclass
class Completed:
    """One finished syncd command."""

    args: tuple[str, ...]
    code: int
    out: str
    err: str
    seconds: float

    @property
    def text(self) -> str:
        return self.out + self.err

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """The JSON log lines (stderr), optionally only those of one event."""
        found = []
        for line in self.err.splitlines():
            if line.startswith("{"):
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if name is None or event.get("event") == name:
                    found.append(event)
        return found

    def describe(self) -> str:
        return f"syncd {' '.join(self.args)} → exit {self.code}\n{self.out}\n{self.err}"


# -- the audit ---------------------------------------------------------------------------


@dataclass
class Audit:
    lost: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    contact_sends: int = 0
    send_requests: int = 0
    repeats: int = 0
    retries: int = 0
    redundant: int = 0
    unnecessary: int = 0
    redundant_requests: set[str] = field(default_factory=set)
    unnecessary_requests: set[str] = field(default_factory=set)
    overlaps: set[str] = field(default_factory=set)
    writes: int = 0
    jobs_by_email: dict[str, list[str]] = field(default_factory=dict)

    @property
    def lost_total(self) -> int:
        return len(self.lost) + len(self.extra)

    def figures(self) -> dict[str, int]:
        return {
            "lost": self.lost_total,
            "contact_sends": self.contact_sends,
            "send_requests": self.send_requests,
            "repeats": self.repeats,
            "retries": self.retries,
            "redundant": self.redundant,
            "redundant_requests": len(self.redundant_requests),
            "unnecessary": self.unnecessary,
            "unnecessary_requests": len(self.unnecessary_requests),
            "overlaps": len(self.overlaps),
            "writes": self.writes,
        }

    def requests_carrying(self, emails: Iterable[str]) -> set[str]:
        """Job ids of the sends (upserts or removals) that carried any of these addresses."""
        return {job for email in emails for job in self.jobs_by_email.get(email.lower(), [])}


def _applied(job: Any, email: str) -> bool:
    """Whether SendGrid (the emulator) really applied this job to this contact."""
    if job.status == "completed":
        return True
    if job.status == "errored":
        return email not in {rejected for rejected, _ in job.rejections}
    return False


def _payload(contact: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in contact.items() if k != "email"}, sort_keys=True)


async def audit(
    emulator: Emulator,
    expected: Mapping[str, Person],
    *,
    list_id: str = LIST_ID,
    settle: bool = True,
) -> Audit:
    """Compare the emulator with the final source, and classify every send.

    `settle` first applies any job still pending (an orphan of an ambiguous request, a
    held job): "quiet" means nothing is left to happen.
    """
    if settle:
        await emulator.settle()
    result = Audit()
    state = emulator.state
    members = state.list_members(list_id)
    field_id = state.field_id("loyalty_tier")
    for email, person in sorted(expected.items()):
        stored = state.contact(email) or {}
        custom = stored.get("custom_fields")
        if (
            email not in members
            or stored.get("first_name") != person.first
            or stored.get("last_name") != person.last
            or not isinstance(custom, dict)
            or custom.get(field_id) != person.tier
        ):
            result.lost.append(email)
    result.extra = sorted(members - expected.keys())
    result.writes = len(emulator.write_requests())

    last: dict[str, tuple[str, str]] = {}  # email → (payload, job id) of its previous send
    seen_applied: dict[str, str] = {}  # email → payload syncd saw a job apply
    open_jobs: dict[str, dict[str, str]] = {}  # email → {job id: payload} not seen to end
    carried: dict[str, dict[str, str]] = {}  # job id → {email: payload}
    seen_jobs: set[str] = set()

    def send(job_id: str, payloads: Mapping[str, str]) -> None:
        result.send_requests += 1
        carried[job_id] = dict(payloads)
        for email, payload in payloads.items():
            result.contact_sends += 1
            result.jobs_by_email.setdefault(email, []).append(job_id)
            still_open = open_jobs.setdefault(email, {})
            if any(other != payload for other in still_open.values()):
                result.overlaps.add(email)
            previous = last.get(email)
            if previous is not None and previous[0] == payload:
                result.repeats += 1
                if not _applied(emulator.jobs[previous[1]], email):
                    result.retries += 1
                elif seen_applied.get(email) == payload:
                    result.unnecessary += 1
                    result.unnecessary_requests.add(job_id)
                else:
                    result.redundant += 1
                    result.redundant_requests.add(job_id)
            still_open[job_id] = payload
            last[email] = (payload, job_id)

    def observe(job_id: str) -> None:
        if job_id in seen_jobs or job_id not in carried:
            return
        seen_jobs.add(job_id)
        job = emulator.jobs[job_id]
        for email, payload in carried[job_id].items():
            # The batch ended: so did every earlier send of the same batch (same value).
            open_jobs[email] = {
                j: p for j, p in open_jobs.get(email, {}).items() if j != job_id and p != payload
            }
            if _applied(job, email):
                seen_applied[email] = payload

    requests, exchanges = emulator.requests, emulator.exchanges
    assert len(requests) == len(exchanges), "record_exchanges must be on for the audit"
    pairs = list(zip(requests, exchanges, strict=True))
    # In the order requests reached SendGrid (a delayed one is logged when it ends).
    pairs.sort(key=lambda pair: pair[0].loop_time)
    for record, exchange in pairs:
        assert (record.method, record.path) == (exchange.method, exchange.path)
        if record.job_id is not None and record.status in (202, None):
            work = emulator.jobs[record.job_id].work
            if record.template == UPSERT and isinstance(work, UpsertWork):
                if list_id in work.list_ids:
                    send(
                        record.job_id,
                        {str(c["email"]).strip().lower(): _payload(c) for c in work.contacts},
                    )
            elif (
                record.template == REMOVE
                and isinstance(work, ListRemovalWork)
                and work.list_id == list_id
            ):
                emails = [found.email for i in work.contact_ids if (found := state.by_id(i))]
                send(record.job_id, dict.fromkeys(emails, REMOVED))
        elif record.template == JOB and exchange.status == 200 and exchange.response_body:
            body = json.loads(exchange.response_body)
            if body.get("status") in TERMINAL:
                observe(record.path.rsplit("/", 1)[-1])
    return result


def rate_limit_violations(emulator: Emulator) -> list[str]:
    """Requests that reached an endpoint after SendGrid had answered `X-RateLimit-Remaining: 0`
    for it and before the `X-RateLimit-Reset` it announced (one API key)."""
    pairs = sorted(zip(emulator.requests, emulator.exchanges, strict=True), key=lambda p: p[0].time)
    blocked: dict[str, tuple[float, float]] = {}  # template → (when it was said, reset)
    found = []
    for record, exchange in pairs:
        said = blocked.get(record.template)
        if said is not None and said[0] < record.time < said[1]:
            found.append(f"{record.template} at {record.time:.3f}, reset at {said[1]:.0f}")
        headers = exchange.response_headers
        if headers.get("X-RateLimit-Remaining") == "0":
            blocked[record.template] = (record.time, float(headers["X-RateLimit-Reset"]))
    return found


# -- the ledger, read from outside -------------------------------------------------------


@dataclass(frozen=True)
class OpenBatch:
    id: int
    kind: str
    state: str
    job_id: str | None
    emails: tuple[str, ...]


def open_batches(state: Path, destination: str = NAME) -> list[OpenBatch]:
    """The outbox as the ledger file holds it now (read-only, no lock)."""
    ledger = open_ledger(str(state), writer=False)
    try:
        with ledger.session(destination) as session:
            return [
                OpenBatch(b.id, b.kind, b.state, b.job_id, tuple(session.emails(b.id)))
                for b in session.open_batches()
            ]
    finally:
        ledger.close()


def contacts_in_two_open_batches(state: Path) -> list[str]:
    """Addresses held by two outbox batches at once (the ledger forbids it by a unique index)."""
    if not state.exists():
        return []
    with sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=5) as db:
        rows = db.execute(
            "SELECT destination, email FROM outbox_items"
            " GROUP BY destination, email HAVING count(DISTINCT batch_id) > 1"
        ).fetchall()
    db.close()
    return [f"{d}:{e}" for d, e in rows]


# -- syncd as a real process ------------------------------------------------------------------


def _syncd_argv(args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "syncd", *args]


class SyncdProcess:
    """`syncd run` (or any long-running command) as a process; optionally as PID 1."""

    AS_PID_1 = (
        "import os, sys; assert os.getpid() == 1; from syncd.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )

    def __init__(
        self, scene: Scene, env: Mapping[str, str], args: Sequence[str], *, pid1: bool = False
    ) -> None:
        self.scene = scene
        self.port = free_port()
        self.env = {**env, "SYNCD_LISTEN": f"127.0.0.1:{self.port}"}
        self.args = tuple(args)
        self.pid1 = pid1
        self.url = f"http://127.0.0.1:{self.port}"
        scene.processes.append(self)
        self.log = scene.root / f"syncd-{len(scene.processes)}.log"
        scene.logs.append(self.log)
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, *, ready_within: float | None = 20) -> None:
        if self.pid1:
            argv = [
                "unshare",
                "--pid",
                "--fork",
                "--kill-child",
                sys.executable,
                "-c",
                self.AS_PID_1,
                *self.args,
            ]
        else:
            argv = _syncd_argv(self.args)
        with self.log.open("ab") as handle:
            self.process = await asyncio.create_subprocess_exec(
                *argv, env=self.env, stdout=handle, stderr=handle
            )
        if ready_within is not None:
            await self.until("/readyz", lambda _: True, within=ready_within)

    @property
    def pid(self) -> int:
        """The syncd process itself (inside the namespace, when run as PID 1)."""
        assert self.process is not None
        if not self.pid1:
            return self.process.pid
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        found = children.read_text().split()
        assert len(found) == 1, found
        return int(found[0])

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def get(self, path: str) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as http, http.get(self.url + path) as reply:
            text = await reply.text()
        self.scene.texts.append(text)
        try:
            return reply.status, json.loads(text)
        except ValueError:
            return reply.status, text

    async def post(self, path: str) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as http, http.post(self.url + path) as reply:
            text = await reply.text()
        self.scene.texts.append(text)
        return reply.status, json.loads(text)

    async def until(self, path: str, check: Callable[[Any], Any], within: float = 20) -> Any:
        async with asyncio.timeout(within):
            while True:
                if not self.running:
                    raise AssertionError(f"syncd exited early:\n{self.output()}")
                try:
                    status, body = await self.get(path)
                except aiohttp.ClientError:
                    status, body = 0, None
                if status == 200 and check(body):
                    return body
                await asyncio.sleep(0.05)

    async def status(self, name: str = NAME) -> dict[str, Any]:
        code, body = await self.get(f"/v1/destinations/{name}")
        assert code == 200, body
        assert isinstance(body, dict)
        return body

    def signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    async def wait(self, within: float = 30) -> int:
        assert self.process is not None
        async with asyncio.timeout(within):
            return await self.process.wait()

    async def stop(self, within: float = 30) -> int:
        if self.running:
            self.signal(signal.SIGTERM)
        return await self.wait(within)

    async def kill(self) -> None:
        """SIGKILL: no handler, no cleanup, as the OOM killer or a node failure does it."""
        if self.running:
            assert self.process is not None
            self.process.kill()
            await self.process.wait()

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


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

    async def until_quiet(self, *, max_runs: int = 6, **extra: str) -> list[Completed]:
        """`syncd sync` until a run succeeds without writing anything to SendGrid."""
        runs: list[Completed] = []
        for _ in range(max_runs):
            writes = len(self.emulator.write_requests())
            done = await self.sync(**extra)
            runs.append(done)
            if done.code == 0 and len(self.emulator.write_requests()) == writes:
                return runs
        raise AssertionError(
            f"not quiet after {max_runs} runs:\n" + "\n".join(r.describe() for r in runs)
        )

    async def sync_here(
        self,
        settings: Mapping[str, Any] | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        **options: Any,
    ) -> RunReport:
        """One run inside the test process (set-up and checks; the scenarios use processes)."""
        catalog = load_directory(self.destinations)
        assert not catalog.problems, [str(p) for p in catalog.problems]
        chosen: dict[str, Any] = {
            "destinations": self.destinations,
            "state": str(self.state),
            "sendgrid_base_url": self.emulator.url,
            "job_poll_max_interval": 0.05,
            "job_timeout": 30,
            **(settings or {}),
        }
        process_settings = Settings(**chosen)
        ledger = open_ledger(process_settings.state)
        try:
            async with aiohttp.ClientSession() as http:
                reconciler = Reconciler(ledger, http, process_settings, Metrics(), clock=clock)
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
