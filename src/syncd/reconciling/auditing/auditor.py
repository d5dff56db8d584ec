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
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

from syncd.contacts import ContactBuilder, Outgoing
from syncd.errors import SyncdError
from syncd.ledger import LedgerSession
from syncd.loading import LoadedDestination
from syncd.logs import get_logger
from syncd.planning import require_consent
from syncd.reconciling.auditing.comparing import compare, copy_ledger, fill_segment
from syncd.reconciling.auditing.digests import QuickCounts, known_in_sync, quick_compare
from syncd.reconciling.auditing.export import (
    download_export,
    load_export,
    ready_export,
    require_complete,
    warn_unreadable,
)
from syncd.reconciling.auditing.export_rows import FileCounts
from syncd.reconciling.auditing.findings import EXAMPLES, AuditRequest, Findings
from syncd.reconciling.auditing.healing import prune, prune_guard, repair
from syncd.reconciling.auditing.workspace import KINDS, Workspace
from syncd.reconciling.progress import RunProgress
from syncd.reconciling.run import Reconciler
from syncd.reconciling.staging import SegmentSources, Staged, keyed_rows
from syncd.reconciling.threads import in_thread, session_of
from syncd.sendgrid import ExportUnusable
from syncd.shapes import AuditReport

log = get_logger("syncd.audit")

__all__ = ["AuditRequest", "Auditor"]


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
        found = Findings()
        outcome: str = "success"
        error: str | None = None
        try:
            require_consent(loaded.definition.spec.consent.data_privacy_acknowledged)
            outcome, error = await self._audit(loaded, request, found, stopping, live)
        except SyncdError as failure:  # before a run could be recorded (consent, ledger)
            outcome, error = failure.outcome, failure.message
        report = found.report(name, request, outcome, error)
        log.info(
            "audit.done",
            destination=name,
            reason=request.reason,
            why=request.why,
            outcome=outcome,
            error=error,
            **report.drift.model_dump(),
            resent=found.healing.resent,
            acknowledged=found.healing.acknowledged,
            removed=found.healing.removed,
            way=found.way,
            examined=found.examined,
            **found.timings,
        )
        return report

    async def _audit(
        self,
        loaded: LoadedDestination,
        request: AuditRequest,
        found: Findings,
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
                    await in_thread(session.keep_audit_export, None)  # done with it
                except ExportUnusable as failure:
                    await in_thread(session.keep_audit_export, None)  # the next starts another
                    outcome, error = failure.outcome, failure.message
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
        found: Findings,
        stopping: Callable[[], bool],
    ) -> None:
        spec = loaded.definition.spec
        builder = ContactBuilder(spec.mapping)
        forgotten = await in_thread(session.forgotten)

        def segment_rows() -> Iterator[tuple[str, int, bytes, int, int]]:
            sources = SegmentSources(
                spec, builder, loaded.path.parent, loaded.allowlists, stopping, forgotten
            )
            return keyed_rows(sources, Staged())

        lap = time.perf_counter()
        client, key_id = await self.reconciler.client_for(loaded)
        hint = spec.sendgrid.api_key.describe()
        checked = await self.reconciler.preflight.check(client, spec, key_id=key_id, hint=hint)
        generation = await in_thread(session.field_generation, checked.binding.ids(), record=True)
        found.binding = replace(checked.binding, generation=generation)
        quick = await in_thread(known_in_sync, session, loaded, found.binding.digest)
        if not quick:
            await in_thread(fill_segment, workspace, segment_rows())
            lap = found.lap("read", lap)
        export, export_started = await ready_export(
            session,
            client,
            spec.sendgrid.list_id,
            clock=self.clock,
            poll_max_interval=self.settings.job_poll_max_interval,
            export_timeout=self.settings.audit_export_timeout,
            stopping=stopping,
        )
        lap = found.lap("export", lap)
        budget = self.settings.audit_max_download_bytes
        paths = await download_export(client, workspace, export, budget=budget)
        lap = found.lap("download", lap)
        outgoing = Outgoing(found.binding, spec.mapping)
        window = self.settings.audit_settle_window

        def since(counts: FileCounts) -> float:
            return settled_before(export_started, window, counts.newest_change)

        counts = FileCounts()
        sizes: QuickCounts | None = None
        if quick:
            sizes = await in_thread(
                quick_compare,
                session,
                workspace,
                builder,
                outgoing,
                paths,
                counts,
                settled_before=since,
                segment_rows=segment_rows,
                prunes=request.prune,
            )
            lap = found.lap("quick", lap)
            found.way = "quick" if sizes is not None else "quick, then full"
            if sizes is None:  # gives way: the full comparison, from the start
                counts = FileCounts()
                await in_thread(fill_segment, workspace, segment_rows())
                lap = found.lap("read", lap)
        if sizes is None:
            await in_thread(load_export, workspace, paths, counts, builder.mapped_names)
            await in_thread(workspace.sort)
            lap = found.lap("sort", lap)
            await in_thread(copy_ledger, session, workspace, since(counts))
            lap = found.lap("ledger", lap)
            await in_thread(compare, workspace, builder, outgoing)
            found.lap("compare", lap)
            found.list_contacts, found.profiles = await in_thread(workspace.sizes)
            found.excluded = await in_thread(workspace.excluded_count)
        else:
            found.list_contacts, found.profiles = sizes.list_contacts, sizes.profiles
            found.excluded, found.examined = sizes.excluded, sizes.examined
        await require_complete(session, export, counts)
        warn_unreadable(counts)
        found.audited_at = self.clock.now()
        found.counts = {
            str(kind): count for kind, count in (await in_thread(workspace.counts)).items()
        }
        for kind in KINDS:
            found.examples[kind] = await in_thread(workspace.examples, kind, EXAMPLES)

    async def _repair(
        self,
        loaded: LoadedDestination,
        session: LedgerSession,
        workspace: Workspace,
        request: AuditRequest,
        found: Findings,
        run_id: int,
        live: RunProgress,
    ) -> None:
        await repair(loaded, session, workspace, request, found, clock=self.clock)
        if not (request.prune and found.counts.get("extra")):
            return
        blocked = prune_guard(loaded, request, found)
        if blocked:
            found.healing = found.healing.model_copy(update={"prune_blocked": blocked})
            return
        client, _ = await self.reconciler.client_for(loaded)
        removed = await prune(
            loaded,
            session,
            client,
            workspace,
            found,
            run_id=run_id,
            limits=self.reconciler.limits,
            clock=self.clock,
            live=live,
        )
        found.healing = found.healing.model_copy(update={"removed": removed})


def settled_before(
    export_started: float, settle_window: float, newest_change: float | None
) -> float:
    """Contacts syncd wrote from this time on are left out: SendGrid may not show them yet.

    By default the settle window before the export. When the export itself holds a change
    SendGrid made later than that (a contact's `updated_at`), what syncd wrote before that
    change had reached the export too, so the window shrinks to it: a hand edit made a
    minute after a sync is found at once. This assumes SendGrid's export shows changes in
    the order they were made (docs/sendgrid-fidelity.md: unknown); when it does not, a
    contact still settling counts as drift once, and healing sends it again unchanged.
    """
    since = export_started - settle_window
    if newest_change is None:
        return since
    return max(since, min(newest_change, export_started))
