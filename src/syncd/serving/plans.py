"""`POST /v1/plans`: candidate destination files, planned by the daemon as it would run them.

For the pull-request check that has neither the ledger nor the sources. The request is
JSON, `{"files": [{"name": "vip.yaml", "content": "<YAML>"}], "removed": ["old.yaml"],
"allowRemovals": false}`
(`?showEmails=true` for whole addresses); the answer the plan document
(`syncd.shapes.PlanDocument`, `syncd schema --plan`). Each file is validated exactly as the
daemon's own (its allowlists, and beside the directory's other files, as if it were
deployed under its name); a valid one is dry-run against the daemon's ledger, read-only,
and its sources; a name the ledger does not know plans as a first export. Nothing is
applied, stored or scheduled: the files live in memory for the request only.

Limits, each answered at once with an error document (`{"error": {"code", "message"}}`):
a valid token in every configuration (plans show contacts: 401/403); at most
`PLAN_MAX_FILES` files of at most 256 KiB each, and a body of at most `PLAN_MAX_BODY`
(413); the body sent within `BODY_TIMEOUT` (408); one plan at a time per destination (a
second answers 409); at most `PLAN_MAX_RUNNING` plans at once (429); the whole plan
within SYNCD_PLAN_TIMEOUT (504, the dry runs told to stop).

A plan reads sources a pull request names, so its blocking work runs in threads of its
own (`own_threads`), never in the loop's executor that the daemon's runs, metrics and
health checks share: six plans of a read that outlived its answer once took every one
of those threads. A plan answered 504 keeps its destinations busy and its slot held
until its dry run has really ended (its threads returned), however long that takes.
"""

from __future__ import annotations

import asyncio
import re
import threading

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from syncd.loading import MAX_FILE_BYTES, load_with
from syncd.logs import get_logger, scrub_data
from syncd.reconciling import Reconciler
from syncd.reconciling.plans import invalid_entry, plan_destination
from syncd.reconciling.threads import in_thread, own_threads
from syncd.serving.auth import AdminGate, problem
from syncd.settings import Settings
from syncd.shapes import PlanDocument, PlanEntry
from syncd.sources import Stopping, never

log = get_logger("syncd.serving")

PLAN_MAX_FILES = 10
PLAN_MAX_REMOVED = 100
"""Names of deleted files a plan request may carry (only names: they cost nothing)."""
PLAN_MAX_BODY = 4 * 1024 * 1024
"""JSON escaping can make a 256 KiB file's text longer; ten of them fit with room to spare."""
BODY_TIMEOUT = 30.0
PLAN_MAX_RUNNING = 4
"""Plans whose dry runs may hold threads at once, answered or not (CI asks one a pull
request at a time)."""
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,250}\.ya?ml")


class PlanBusy(Exception):
    def __init__(self, names: list[str]) -> None:
        super().__init__(", ".join(names))
        self.names = names


class PlansFull(Exception):
    """As many plans as `Planner.max_running` hold threads, some maybe past their answer."""


class CandidateFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    content: str


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    files: list[CandidateFile] = Field(min_length=1)
    removed: list[str] = Field(default_factory=list, max_length=PLAN_MAX_REMOVED)
    """Files of the directory the change deletes (a rename: one removed, one sent)."""
    allow_removals: bool = Field(default=False, alias="allowRemovals")


class Planner:
    """Dry runs of candidate files on a reconciler over the daemon's ledger, read-only."""

    def __init__(
        self,
        reconciler: Reconciler,
        settings: Settings,
        *,
        stopping: Stopping = never,
        max_running: int = PLAN_MAX_RUNNING,
    ) -> None:
        self.reconciler = reconciler
        self.settings = settings
        self.max_running = max_running
        self._stopping = stopping  # the daemon's: a plan ends with it
        self._busy: set[str] = set()
        self._running: set[asyncio.Task[PlanDocument]] = set()

    async def plan(
        self,
        files: dict[str, bytes],
        *,
        allow_removals: bool,
        show_emails: bool,
        removed: frozenset[str] = frozenset(),
    ) -> PlanDocument:
        """Raises PlansFull when `max_running` plans still run, PlanBusy when a plan for
        one of their destinations does, and TimeoutError after SYNCD_PLAN_TIMEOUT (the
        dry runs are told to stop, and go on in the background until they have)."""
        if len(self._running) >= self.max_running:
            raise PlansFull()
        halt = threading.Event()
        task = asyncio.create_task(
            self._plan(
                files,
                allow_removals=allow_removals,
                show_emails=show_emails,
                removed=removed,
                stopping=lambda: halt.is_set() or self._stopping(),
            ),
            name="plan",
        )
        self._running.add(task)
        task.add_done_callback(self._ended)
        try:
            async with asyncio.timeout(self.settings.plan_timeout):
                # Shielded: cancelling the task would only stop waiting for its threads,
                # which run on; it ends (freeing its names and slot) once they return.
                return await asyncio.shield(task)
        except BaseException:  # past its time, or the request went away
            halt.set()
            raise

    async def _plan(
        self,
        files: dict[str, bytes],
        *,
        allow_removals: bool,
        show_emails: bool,
        removed: frozenset[str],
        stopping: Stopping,
    ) -> PlanDocument:
        settings = self.settings
        with own_threads():
            catalog = await in_thread(
                load_with, settings.destinations, files, settings.allowlists(), removed
            )
            results = [(name, catalog.files[name]) for name in files]
            names = {r.destination.name for _, r in results if r.destination is not None}
            if busy := names & self._busy:
                raise PlanBusy(sorted(busy))
            self._busy |= names
            entries: list[PlanEntry] = []
            try:
                for name, result in results:
                    if stopping():
                        break
                    if result.destination is None:
                        shown = [p.shape(file=name) for p in result.problems]
                        entries.append(invalid_entry(name, name, shown))
                        continue
                    entry = await plan_destination(
                        self.reconciler,
                        result.destination,
                        allow_removals=allow_removals,
                        show_emails=show_emails,
                        file=name,
                        stopping=stopping,
                    )
                    entries.append(entry)
            finally:
                self._busy -= names
        return PlanDocument(destinations=entries)

    def _ended(self, task: asyncio.Task[PlanDocument]) -> None:
        self._running.discard(task)
        if task.cancelled():
            return
        error = task.exception()  # retrieved: a plan answered 504 has nobody awaiting it
        if error is not None and not isinstance(error, PlanBusy):
            log.warning("plan.failed", error=f"{type(error).__name__}: {error}")


async def post_plans(request: web.Request, gate: AdminGate, planner: Planner) -> web.Response:
    refused = await gate.personal_data_refusal(request)
    if refused is not None:
        return refused
    show = request.query.get("showEmails", "false").lower() in ("1", "true", "yes")
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    try:
        asked = PlanRequest.model_validate_json(body)
    except ValidationError as invalid:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
            for e in invalid.errors(include_input=False, include_url=False)
        )
        return problem(400, f"not a plan request ({where})", "invalidRequest")
    files = _files(asked)
    if isinstance(files, web.Response):
        return files
    removed = _removed(asked, files)
    if isinstance(removed, web.Response):
        return removed
    log.info(
        "plan.requested",
        files=list(files),
        removed=sorted(removed),
        allow_removals=asked.allow_removals,
    )
    try:
        document = await planner.plan(
            files, allow_removals=asked.allow_removals, show_emails=show, removed=removed
        )
    except PlanBusy as busy:
        message = f"a plan for {', '.join(busy.names)} is running; ask again when it ends"
        return problem(409, message, "planInProgress")
    except PlansFull:
        message = (
            f"{planner.max_running} plans are running (some may be ending after their "
            "time limit); ask again when one ends"
        )
        return problem(429, message, "tooManyPlans")
    except TimeoutError:
        timeout = planner.settings.plan_timeout
        message = (
            f"the plan took longer than {timeout:.0f}s (SYNCD_PLAN_TIMEOUT) and was stopped; "
            "plan fewer files at once, or raise the setting"
        )
        return problem(504, message, "planTimeout")
    log.info(
        "plan.done", results={e.name: e.result for e in document.destinations}, files=len(files)
    )
    return web.json_response(scrub_data(document.wire(), addresses=not show))


async def _body(request: web.Request) -> bytes | web.Response:
    """The request's body within its own limit (the application allows bodies of 1 KiB)."""
    too_big = problem(413, f"the body exceeds {PLAN_MAX_BODY // (1024 * 1024)} MiB")
    too_big.force_close()  # the rest of the body is not waited for
    if request.content_length is not None and request.content_length > PLAN_MAX_BODY:
        return too_big
    if request.content_type != "application/json":
        return problem(415, "send the files as application/json (see syncd plan --remote)")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            async for chunk in request.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > PLAN_MAX_BODY:
                    return too_big
                chunks.append(chunk)
    except TimeoutError:
        return problem(408, f"the body was not sent within {BODY_TIMEOUT:.0f}s")
    return b"".join(chunks)


def _removed(asked: PlanRequest, files: dict[str, bytes]) -> frozenset[str] | web.Response:
    for name in asked.removed:
        if not _FILE_NAME.fullmatch(name):
            return problem(400, _bad_name(name), "invalidFileName")
        if name in files:
            return problem(400, f"{name} is both sent and removed", "invalidFileName")
    return frozenset(asked.removed)


def _bad_name(name: str) -> str:
    return f"file name {name[:80]!r}: a visible name ending in .yaml or .yml, without a directory"


def _files(asked: PlanRequest) -> dict[str, bytes] | web.Response:
    if len(asked.files) > PLAN_MAX_FILES:
        return problem(
            413,
            f"{len(asked.files)} files: at most {PLAN_MAX_FILES} are planned at once",
            "tooManyFiles",
        )
    files: dict[str, bytes] = {}
    for candidate in asked.files:
        if not _FILE_NAME.fullmatch(candidate.name):
            return problem(400, _bad_name(candidate.name), "invalidFileName")
        if candidate.name in files:
            return problem(400, f"{candidate.name} is sent twice", "invalidFileName")
        data = candidate.content.encode("utf-8", "surrogatepass")
        if len(data) > MAX_FILE_BYTES:
            return problem(
                413, f"{candidate.name}: more than 256 KiB, the limit of a file", "fileTooLarge"
            )
        files[candidate.name] = data
    return files
