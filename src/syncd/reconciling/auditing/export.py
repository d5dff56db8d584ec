"""The list's export for an audit: resumed or started, polled, downloaded, read.

The export id goes to the ledger (`destinations.audit_export`, with when it was started)
before the first poll, so a restart polls the same export instead of starting another;
an export older than `RESUME_WITHIN` shows the list as it was, so another is started
then. An export is waited for `SYNCD_AUDIT_EXPORT_TIMEOUT` at most, counted from when it
was started (a restart does not start the count again), and one audit waits no longer in
all: the destination's runs wait behind it. A failed export, one still pending then, a
download that fails (links expire), files holding fewer contacts than the export counted,
or a file cut short or corrupt (`files`) raise `ExportUnusable`, on which the auditor
forgets the id: the next audit starts afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

from syncd import failpoints
from syncd.clock import Clock
from syncd.durations import duration_text
from syncd.errors import SendGridUnavailable
from syncd.ledger import LedgerSession
from syncd.logs import get_logger
from syncd.reconciling.auditing.export_rows import FileCounts, Wanted
from syncd.reconciling.auditing.files import read_export_file
from syncd.reconciling.auditing.workspace import Workspace
from syncd.reconciling.threads import in_thread
from syncd.sendgrid import ExportGone, ExportState, ExportUnusable, SendGridClient

log = get_logger("syncd.audit")
CHUNK = 10_000
RESUME_WITHIN = 24 * 3600.0
SHORTFALL_TOLERATED = 0.01
"""The share of an export's `contact_count` its files may lack and still be compared: a
file missing or cut short lacks far more; a count that disagrees by a few is noise."""


async def ready_export(
    session: LedgerSession,
    client: SendGridClient,
    list_id: str,
    *,
    clock: Clock,
    poll_max_interval: float,
    export_timeout: float,
    stopping: Callable[[], bool],
) -> tuple[ExportState, float]:
    """The list's export, ready, and when it was started: the one an interrupted audit
    kept, or a new one."""
    began = clock.now()
    export_id, started = _parse_kept(await in_thread(session.audit_export))
    if export_id is None or began - started > RESUME_WITHIN:
        export_id, started = await _start(session, client, list_id, clock)
    failpoints.hit("audit-polling")

    async def polled(export_id: str, started: float) -> ExportState:
        # The earlier of the export's start and this audit's: a resumed export is given
        # up on its own time, one started again after `ExportGone` on the audit's.
        give_up_at = min(started, began) + export_timeout
        within = max(0.0, give_up_at - clock.now())
        return await client.exports.wait(
            export_id, max_interval=poll_max_interval, within=within, stopping=stopping
        )

    try:
        state = await polled(export_id, started)
    except ExportGone:  # expired while syncd was down: start again
        export_id, started = await _start(session, client, list_id, clock)
        state = await polled(export_id, started)
    if state.status == "failure":
        raise ExportUnusable(
            f"SendGrid's export of the list failed ({state.message or 'no reason given'}); "
            "the next audit starts another"
        )
    if state.status == "pending":
        waited = duration_text(timedelta(seconds=max(0.0, clock.now() - started)))
        raise ExportUnusable(
            f"SendGrid's export of the list was still pending {waited} after it was started "
            "(SYNCD_AUDIT_EXPORT_TIMEOUT); given up, the next audit starts another"
        )
    return state, started


async def _start(
    session: LedgerSession, client: SendGridClient, list_id: str, clock: Clock
) -> tuple[str, float]:
    started = clock.now()
    export_id = await client.exports.start(list_id)
    await in_thread(session.keep_audit_export, f"{export_id} {started}")
    return export_id, started


def _parse_kept(kept: str | None) -> tuple[str | None, float]:
    if not kept:
        return None, 0.0
    export_id, _, started = kept.partition(" ")
    try:
        return export_id, float(started)
    except ValueError:
        return None, 0.0


async def download_export(
    client: SendGridClient,
    workspace: Workspace,
    export: ExportState,
    *,
    budget: int,
) -> list[Path]:
    """Every file of the export, downloaded to the workspace's directory (deleted with it)."""
    paths = []
    try:
        for number, url in enumerate(export.urls, start=1):
            path = workspace.directory / f"export-{number}"
            with path.open("wb") as sink:
                failpoints.hit("audit-downloading")
                budget -= await client.exports.download(url, sink, budget=budget)
            paths.append(path)
    except SendGridUnavailable as failure:
        # Links expire: the next audit starts a new export rather than retry dead ones.
        raise ExportUnusable(failure.message, retry_after=failure.retry_after) from None
    return paths


async def require_complete(session: LedgerSession, export: ExportState, counts: FileCounts) -> None:
    """Fails the audit when the files hold fewer rows than SendGrid said it exported (a file
    missing or cut short): compared, every contact left out would count as missing and
    healing would send it again. The export is unusable: the next audit starts another.
    More rows than said pass (extras are only removed on request, and by the ids the
    files name); so does a shortfall of at most `SHORTFALL_TOLERATED` of the count
    (how SendGrid counts is not documented beyond its description), logged. Without a
    count, an export that names no file at all fails the same way while the ledger holds
    contacts on the list: read as an empty list, it would send every one of them again."""
    promised = export.contact_count
    if promised is None:
        if not export.urls and (acked := await in_thread(session.acked_count)):
            _incomplete(f"named no file and no count, while {acked:,} contacts are acknowledged")
        return
    if counts.rows >= promised:
        return
    if promised - counts.rows <= promised * SHORTFALL_TOLERATED:
        log.warning("audit.export_short", counted=promised, held=counts.rows)
        return
    _incomplete(
        f"counted {promised:,} contacts but its {counts.files:,} file(s) held {counts.rows:,}"
    )


def _incomplete(what: str) -> NoReturn:
    raise ExportUnusable(
        f"SendGrid's export of the list {what}: incomplete, so nothing was compared or "
        "healed; the next audit starts another export"
    )


def load_export(
    workspace: Workspace, paths: list[Path], counts: FileCounts, wanted: Wanted
) -> None:
    """The downloaded files read into the workspace's `held`, the fields `wanted` only
    (blocking)."""
    for path in paths:
        chunk: list[tuple[str, str, str]] = []
        for held in read_export_file(path, counts, wanted):
            chunk.append((held.email, held.contact_id, held.fields))
            if len(chunk) >= CHUNK:
                workspace.add_held(chunk)
                chunk.clear()
        workspace.add_held(chunk)


def warn_unreadable(counts: FileCounts) -> None:
    if counts.unreadable:
        log.warning("audit.unreadable_rows", count=counts.unreadable, files=counts.files)
