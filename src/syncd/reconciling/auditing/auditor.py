"""One audit of one destination: the real list against the segment and the ledger, healed
where asked. Never decides *when* (the scheduler, or `syncd audit`, does).

1. **Read** the segment as a run reads it (forgotten addresses dropped, the first row of an
   email winning) into the workspace; the preflight binds the custom fields.
2. **Export** the list (`sendgrid.exporting`): the export id is kept in the ledger before
   the first poll, so a restart polls the same export instead of starting another; each
   file is downloaded to the workspace's directory, read (`files`) and deleted.
3. **Compare** (`comparing`), leaving out contacts of jobs completed less than the settle
   window before the export started, contacts of open batches, contacts taken off the list
   in that window, and contacts refused for good.
4. **Record** the counts (the ledger's `drift`), then repair: unacknowledged contacts are
   acknowledged (no request); with `heal`, missing and stale ones are marked to be sent
   again; with `prune`, extra ones are taken off the list (never deleted from the account,
   whatever onLeave says) through the outbox, by the contact ids of the export, under the
   removal guards (an empty segment, or more than maxRemovalFraction of the list).
5. **Heal**: a normal run (trigger `audit`) sends the marked contacts, with every guarantee
   of a run. A crash before it leaves them marked: the next run sends them.
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast

from syncd import failpoints
from syncd.contacts import ContactBuilder, FieldBinding, Outgoing
from syncd.errors import SendGridUnavailable, SyncdError
from syncd.ledger import RETRY_BUDGET, DriftRecord, LedgerSession, OutboxItem
from syncd.loading import LoadedDestination
from syncd.logs import get_logger
from syncd.planning import require_consent
from syncd.reconciling.applying import Applier
from syncd.reconciling.auditing.comparing import compare
from syncd.reconciling.auditing.files import FileCounts, read_export_file
from syncd.reconciling.auditing.workspace import KINDS, DriftKind, Workspace
from syncd.reconciling.progress import RunProgress
from syncd.reconciling.removing import send_removal_batch
from syncd.reconciling.run import Reconciler
from syncd.reconciling.staging import Staged, keyed_rows
from syncd.reconciling.threads import in_thread, session_of
from syncd.sendgrid import REMOVE_LIMIT, ExportGone, ExportState, SendGridClient
from syncd.shapes import AuditReport, DriftCounts, DriftExamples, Healing, Outcome, iso

log = get_logger("syncd.audit")
EXAMPLES = 20
MISSING_OR_STALE: tuple[DriftKind, ...] = ("missing", "stale")
CHUNK = 10_000
PAGE = 5_000
RESUME_WITHIN = 24 * 3600.0
"""An export kept by an interrupted audit is polled again if started less than this ago;
an older one would show the list as it was, so another is started."""


@dataclass(frozen=True)
class AuditRequest:
    heal: bool = False
    prune: bool = False
    allow_removals: bool = False
    reason: str = "manual"
    """manual, schedule or countMismatch: shown in the report and the log."""


@dataclass
class _Found:
    audited_at: float | None = None
    list_contacts: int = 0
    profiles: int = 0
    excluded: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    healing: Healing = field(default_factory=Healing)
    binding: FieldBinding = field(default_factory=lambda: FieldBinding("", {}))
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per step, for the log line (where an audit's time goes)."""

    def lap(self, step: str, since: float) -> float:
        now = time.perf_counter()
        self.timings[step] = round(now - since, 3)
        self.timings[step.replace("_s", "_rss_mb")] = (
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        )
        return now


class Auditor:
    def __init__(self, reconciler: Reconciler) -> None:
        self.reconciler = reconciler
        self.settings = reconciler.settings
        self.clock = reconciler.clock

    async def audit(
        self,
        loaded: LoadedDestination,
        request: AuditRequest,
        *,
        stopping: Callable[[], bool] = lambda: False,
        live: RunProgress | None = None,
    ) -> AuditReport:
        name = loaded.definition.name
        live = live or RunProgress(self.clock)
        found = _Found()
        outcome: str = "success"
        error: str | None = None
        try:
            require_consent(loaded.definition.spec.consent.data_privacy_acknowledged)
            outcome, error = await self._audit(loaded, request, found, stopping, live)
        except SyncdError as failure:  # before a run could be recorded (consent, ledger)
            outcome, error = failure.outcome, failure.message
        report = _report(name, request, outcome, error, found)
        log.info(
            "audit.done",
            destination=name,
            reason=request.reason,
            outcome=outcome,
            error=error,
            **report.drift.model_dump(),
            resent=found.healing.resent,
            acknowledged=found.healing.acknowledged,
            removed=found.healing.removed,
            **found.timings,
        )
        return report

    async def _audit(
        self,
        loaded: LoadedDestination,
        request: AuditRequest,
        found: _Found,
        stopping: Callable[[], bool],
        live: RunProgress,
    ) -> tuple[str, str | None]:
        outcome: str = "success"
        error: str | None = None
        workspace = await in_thread(Workspace)
        try:
            async with session_of(self.reconciler.ledger, loaded.definition.name) as session:
                started_at = self.clock.now()
                run_id = await in_thread(
                    session.begin_run, "audit", loaded.digest, started_at=started_at
                )
                live.run_id = run_id
                live.enter("auditing")
                try:
                    await self._compare(loaded, session, workspace, request, found, stopping)
                    await self._repair(loaded, session, workspace, request, found, run_id, live)
                except SyncdError as failure:
                    outcome, error = failure.outcome, failure.message
                except asyncio.CancelledError:
                    outcome, error = "temporary", "interrupted by shutdown"
                    raise
                except Exception as failure:
                    log.exception("audit.unexpected", destination=loaded.definition.name)
                    outcome, error = "unexpected", f"{type(failure).__name__}: {failure}"
                finally:
                    counts = {"profiles": found.profiles, "removed": found.healing.removed}
                    await asyncio.shield(
                        in_thread(session.finish_run, run_id, outcome, counts, error)
                    )
        finally:
            await in_thread(workspace.close)
        if outcome == "success" and request.heal and found.healing.resent:
            heal = await self.reconciler.run(loaded, trigger="audit", stopping=stopping, live=live)
            if heal.outcome != "success":
                found.healing = found.healing.model_copy(
                    update={"heal_error": heal.error or heal.outcome}
                )
                outcome, error = heal.outcome, heal.error
        return outcome, error

    # -- reading and comparing ----------------------------------------------------------
    async def _compare(
        self,
        loaded: LoadedDestination,
        session: LedgerSession,
        workspace: Workspace,
        request: AuditRequest,
        found: _Found,
        stopping: Callable[[], bool],
    ) -> None:
        spec = loaded.definition.spec
        builder = ContactBuilder(spec.mapping)
        forgotten = await in_thread(session.forgotten)

        def read_segment() -> Staged:
            staged = Staged()
            rows = keyed_rows(
                spec,
                builder,
                staged,
                loaded.path.parent,
                loaded.allowlists,
                stopping,
                forgotten,
            )
            chunk: list[tuple[str, int, bytes, int, int]] = []
            for row in rows:
                chunk.append(row)
                if len(chunk) >= CHUNK:
                    workspace.add_segment(chunk)
                    chunk.clear()
            workspace.add_segment(chunk)
            return staged

        lap = time.perf_counter()
        await in_thread(read_segment)
        lap = found.lap("read_s", lap)
        client, key_id = await self.reconciler.client_for(loaded)
        hint = spec.sendgrid.api_key.describe()
        checked = await self.reconciler.preflight.check(client, spec, key_id=key_id, hint=hint)
        generation = await in_thread(session.field_generation, checked.binding.ids(), record=True)
        found.binding = replace(checked.binding, generation=generation)
        export, export_started = await self._export(
            session, client, spec.sendgrid.list_id, stopping
        )
        lap = found.lap("export_s", lap)
        await self._download(session, client, workspace, export)
        lap = found.lap("download_s", lap)
        await in_thread(workspace.sort)
        lap = found.lap("sort_s", lap)
        since = export_started - self.settings.audit_settle_window
        await in_thread(_copy_ledger, session, workspace, since)
        lap = found.lap("ledger_s", lap)
        await in_thread(compare, workspace, builder, Outgoing(found.binding, spec.mapping))
        found.lap("compare_s", lap)
        counts = await in_thread(workspace.counts)
        found.audited_at = self.clock.now()
        found.list_contacts, found.profiles = await in_thread(workspace.sizes)
        found.excluded = await in_thread(workspace.excluded_count)
        found.counts = {str(kind): count for kind, count in counts.items()}
        for kind in KINDS:
            found.examples[kind] = await in_thread(workspace.examples, kind, EXAMPLES)

    async def _export(
        self,
        session: LedgerSession,
        client: SendGridClient,
        list_id: str,
        stopping: Callable[[], bool],
    ) -> tuple[ExportState, float]:
        """The list's export, ready: the one an interrupted audit kept, or a new one."""
        kept = await in_thread(session.audit_export)
        export_id, started = _parse_kept(kept)
        if export_id is None or self.clock.now() - started > RESUME_WITHIN:
            export_id, started = await self._start(session, client, list_id)
        wait = client.exports.wait
        interval = self.settings.job_poll_max_interval
        failpoints.hit("audit-polling")
        try:
            state = await wait(export_id, max_interval=interval, stopping=stopping)
        except ExportGone:  # expired while syncd was down: start again
            export_id, started = await self._start(session, client, list_id)
            state = await wait(export_id, max_interval=interval, stopping=stopping)
        if state.status == "failure":
            await in_thread(session.keep_audit_export, None)
            raise SendGridUnavailable(
                f"SendGrid's export of the list failed ({state.message or 'no reason given'}); "
                "the next audit starts another"
            )
        return state, started

    async def _start(
        self, session: LedgerSession, client: SendGridClient, list_id: str
    ) -> tuple[str, float]:
        started = self.clock.now()
        export_id = await client.exports.start(list_id)
        await in_thread(session.keep_audit_export, f"{export_id} {started}")
        return export_id, started

    async def _download(
        self,
        session: LedgerSession,
        client: SendGridClient,
        workspace: Workspace,
        export: ExportState,
    ) -> None:
        budget = self.settings.audit_max_download_bytes
        counts = FileCounts()
        try:
            for number, url in enumerate(export.urls, start=1):
                path = workspace.directory / f"export-{number}"
                with path.open("wb") as sink:
                    failpoints.hit("audit-downloading")
                    budget -= await client.exports.download(url, sink, budget=budget)
                await in_thread(_load_file, workspace, path, counts)
        except SendGridUnavailable:
            # Links expire: the next audit starts a new export rather than retry dead ones.
            await in_thread(session.keep_audit_export, None)
            raise
        if counts.unreadable:
            log.warning("audit.unreadable_rows", count=counts.unreadable, files=counts.files)

    # -- repairing ----------------------------------------------------------------------
    async def _repair(
        self,
        loaded: LoadedDestination,
        session: LedgerSession,
        workspace: Workspace,
        request: AuditRequest,
        found: _Found,
        run_id: int,
        live: RunProgress,
    ) -> None:
        counts = found.counts
        drifted = any(counts.values())
        healing = found.healing
        acknowledged = 0
        for page in workspace.pages("unacknowledged"):
            rows = [(email, fp or 0, found.binding.digest, raw or 0) for email, _, fp, raw in page]
            await in_thread(session.acknowledge_found, rows)
            acknowledged += len(rows)
        resent = 0
        if request.heal:
            for kind in MISSING_OR_STALE:
                for page in workspace.pages(kind):
                    await in_thread(session.unsettle, [row[0] for row in page])
                    resent += len(page)
        healing = healing.model_copy(update={"acknowledged": acknowledged, "resent": resent})
        if request.prune and counts.get("extra"):
            blocked = _prune_guard(loaded, request, found)
            if blocked:
                healing = healing.model_copy(update={"prune_blocked": blocked})
            else:
                removed = await self._prune(loaded, session, workspace, found, run_id, live)
                healing = healing.model_copy(update={"removed": removed})
        found.healing = healing
        await in_thread(
            session.record_drift,
            DriftRecord(
                destination=loaded.definition.name,
                audited_at=found.audited_at or self.clock.now(),
                missing=counts.get("missing", 0),
                extra=counts.get("extra", 0),
                stale=counts.get("stale", 0),
                unacknowledged=counts.get("unacknowledged", 0),
                healed=drifted and (request.heal or request.prune),
            ),
        )
        await in_thread(session.keep_audit_export, None)

    async def _prune(
        self,
        loaded: LoadedDestination,
        session: LedgerSession,
        workspace: Workspace,
        found: _Found,
        run_id: int,
        live: RunProgress,
    ) -> int:
        """Extra contacts off the list, by the ids of the export, through the outbox: a
        crash leaves the batch for the next run to finish (as a removal from the list)."""
        client, _ = await self.reconciler.client_for(loaded)
        applier = Applier(
            session,
            client,
            binding=found.binding,
            run_id=run_id,
            segment_names=[s.name for s in loaded.definition.spec.segments],
            limits=self.reconciler.limits,
            clock=self.clock,
            stopping=lambda: False,
            live=live,
        )
        live.enter("removing")
        sent = 0
        for page in workspace.pages("extra"):
            items = [OutboxItem(email, body=cid.encode()) for email, cid, _, _ in page if cid]
            for start in range(0, len(items), REMOVE_LIMIT):
                batch = await applier.outbox.open_batch(
                    "remove", items[start : start + REMOVE_LIMIT]
                )
                await send_removal_batch(applier.outbox, batch)
                sent += batch.size
        await applier.settle()
        return sent


def _parse_kept(kept: str | None) -> tuple[str | None, float]:
    if not kept:
        return None, 0.0
    export_id, _, started = kept.partition(" ")
    try:
        return export_id, float(started)
    except ValueError:
        return None, 0.0


def _load_file(workspace: Workspace, path: Path, counts: FileCounts) -> None:
    chunk: list[tuple[str, str, str]] = []
    for held in read_export_file(path, counts):
        chunk.append((held.email, held.contact_id, held.fields))
        if len(chunk) >= CHUNK:
            workspace.add_held(chunk)
            chunk.clear()
    workspace.add_held(chunk)
    path.unlink()


def _copy_ledger(session: LedgerSession, workspace: Workspace, since: float) -> None:
    after = ""
    while page := session.acked_page(after, PAGE):
        after = page[-1][0]
        workspace.add_acked(page)
    after = ""
    while emails := session.audit_exclusions(since, RETRY_BUDGET, after, PAGE):
        after = emails[-1]
        workspace.exclude(emails)
    workspace.exclude_settling(since)


def _prune_guard(loaded: LoadedDestination, request: AuditRequest, found: _Found) -> str | None:
    """Why pruning is held back, or None: the removal guards, on the list's size."""
    if request.allow_removals:
        return None
    extra = found.counts.get("extra", 0)
    if found.profiles == 0:
        return "the segment is empty: pruning would empty the list; confirm with --allow-removals"
    fraction = loaded.definition.spec.limits.max_removal_fraction
    if extra > fraction * max(found.list_contacts, 1):
        return (
            f"pruning would take {extra:,} of the list's {found.list_contacts:,} contacts off "
            f"it, more than maxRemovalFraction ({fraction:.0%}); confirm with --allow-removals"
        )
    return None


def _report(
    name: str, request: AuditRequest, outcome: str, error: str | None, found: _Found
) -> AuditReport:
    return AuditReport(
        destination=name,
        outcome=cast(Outcome, outcome),
        error=error,
        audited_at=iso(found.audited_at),
        reason=request.reason,
        list_contacts=found.list_contacts,
        profiles=found.profiles,
        excluded=found.excluded,
        drift=DriftCounts(**found.counts),
        examples=DriftExamples(**found.examples),
        heal=request.heal,
        prune=request.prune,
        healing=found.healing,
    )
