"""A plan: a dry run of one destination, told as `syncd.shapes.PlanEntry`.

The same entries for `syncd plan` (local) and `POST /v1/plans` (the daemon's own ledger
and sources): the result says whether a sync would change nothing, change something,
be stopped by a guard (which, and how to pass it), or fail. For a plan the counts say
what a sync *would* do: `new` contacts to add, `changed` to update, `gone` to leave the
list (or the ledger, `forgotten`, with onLeave: keep); nothing is `upserted` or
`removed`.
"""

from __future__ import annotations

from collections.abc import Sequence

from syncd.errors import SyncdError
from syncd.loading import LoadedDestination
from syncd.reconciling.report import RunReport
from syncd.reconciling.run import Reconciler
from syncd.reconciling.threads import in_thread
from syncd.shapes import Counts, Example, Examples, Guard, PlanEntry, PlanResult, Problem
from syncd.shapes import mask_email as mask
from syncd.sources import Stopping, never


async def plan_destination(
    reconciler: Reconciler,
    loaded: LoadedDestination,
    *,
    allow_removals: bool = False,
    show_emails: bool = False,
    file: str | None = None,
    stopping: Stopping = never,
) -> PlanEntry:
    """Dry-run one destination against the reconciler's ledger: nothing is written to
    SendGrid or to the ledger. `file` names the file in the entry (default: its path)."""
    shown = file if file is not None else str(loaded.path)
    report = await reconciler.run(
        loaded, trigger="plan", dry_run=True, allow_removals=allow_removals, stopping=stopping
    )
    try:
        first_export = not await in_thread(reconciler.ledger.holds_acked, loaded.name)
    except SyncdError as error:
        return error_entry(loaded.name, shown, error.message)
    return plan_entry(report, file=shown, first_export=first_export, show_emails=show_emails)


def plan_entry(
    report: RunReport, *, file: str, first_export: bool, show_emails: bool = False
) -> PlanEntry:
    plan = report.plan
    guards: list[Guard] = []
    stop = None  # a run that failed otherwise is an error, whatever its plan said
    if report.outcome == "guard":
        stop = report.guard
    elif report.outcome == "success" and plan is not None:
        stop = plan.removal_guard
    if stop is not None:
        guards.append(Guard(guard=stop.guard, message=stop.message, how_to_pass=stop.how_to_pass))
    result: PlanResult
    if guards:
        result = "blocked"
    elif report.outcome != "success" or plan is None:
        result = "error"
    elif _changes(report):
        result = "changes"
    else:
        result = "noChanges"
    return PlanEntry(
        name=report.destination,
        file=file,
        result=result,
        first_export=first_export,
        error=report.error if result == "error" else None,
        guards=guards,
        counts=plan_counts(report),
        examples=report.examples if show_emails else _masked(report.examples),
    )


def invalid_entry(name: str, file: str, problems: Sequence[Problem]) -> PlanEntry:
    """A file that failed validation: its problems, nothing planned."""
    return PlanEntry(name=name, file=file, result="invalid", problems=list(problems))


def error_entry(name: str, file: str, message: str) -> PlanEntry:
    return PlanEntry(name=name, file=file, result="error", error=message)


def plan_counts(report: RunReport) -> Counts:
    counts = report.counts()
    preview = report.preview
    return Counts(
        rows=counts["rows"],
        profiles=counts["profiles"],
        new=preview.adds if preview else counts["new"],
        changed=preview.updates if preview else counts["changed"],
        unchanged=counts["unchanged"],
        gone=counts["gone"],
        rejected=report.rejected,
        forgotten=counts["forgotten"],
        kept=counts["kept"],
        moved_away=counts["moved_away"],
        held=counts["held"],
    )


def _changes(report: RunReport) -> bool:
    """Whether a sync would write anything to SendGrid."""
    plan = report.plan
    if plan is None:
        return False
    preview = report.preview
    sends = preview.adds + preview.updates if preview else plan.upserts
    # A batch an earlier run began is sent (or its job polled) by the next sync.
    return sends > 0 or plan.removals > 0 or plan.diff.held > 0


def _masked(examples: Examples) -> Examples:
    def each(kind: list[Example]) -> list[Example]:
        return [e.model_copy(update={"email": mask(e.email) if e.email else ""}) for e in kind]

    return Examples(
        add=each(examples.add),
        update=each(examples.update),
        remove=each(examples.remove),
        rejected=each(examples.rejected),
    )
