"""How run reports and progress read on a terminal (plans: `plan_output`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from syncd.ledger import Rejection
from syncd.reconciling import RunReport

SHOWN_REJECTIONS = 10


def _rejections(lines: list[str], rejections: Iterable[Rejection], total: int) -> None:
    listed = list(rejections)[:SHOWN_REJECTIONS]
    for r in listed:
        lines.append(f"    {r.place}: {r.reason}")
    if total > len(listed):
        lines.append(f"    … and {total - len(listed)} more (syncd status NAME --rejections)")


def run_text(report: RunReport) -> str:
    counts = report.counts()
    lines = [
        f"{report.destination}: {report.outcome} in {report.duration:.1f}s",
        f"  profiles {counts['profiles']:,} · upserted {counts['upserted']:,}"
        + (f" ({counts['resumed']:,} of an earlier run's batches)" if counts["resumed"] else "")
        + " · removed "
        f"{counts['removed']:,} · unchanged {counts['unchanged']:,} · rejected "
        f"{counts['rejected']:,}"
        + (f" · forgotten {counts['forgotten']:,}" if counts["forgotten"] else "")
        + (f" · moved away {counts['moved_away']:,}" if counts["moved_away"] else ""),
    ]
    lines += waiting_lines(
        pending_removals=counts["pending_removals"], awaiting_search=counts["awaiting_search"]
    )
    _rejections(lines, [*report.staged.rejections, *report.rejections], report.rejected)
    _rejections(lines, report.moved_away, len(report.moved_away))
    if report.error:
        lines.append(f"  {report.error}")
    return "\n".join(lines)


def in_flight_line(name: str, flight: Mapping[str, object]) -> str:
    """What a sync asked of a daemon waits for: the run (or audit) under way, whose
    progress shows until the requested run starts."""
    trigger, run_id = flight.get("trigger"), flight.get("runId")
    what = "an audit" if trigger == "audit" else f"a {trigger} run"
    number = f" (#{run_id})" if isinstance(run_id, int) else ""
    return f"{name}: {what}{number} is under way; the sync asked for starts once it ends"


def waiting_lines(*, pending_removals: int, awaiting_search: int) -> list[str]:
    """What a run left waiting on SendGrid's search, as `syncd sync` prints it (locally or
    through a daemon, whose counts are spelled `pendingRemovals`, `awaitingSearch`)."""
    lines = []
    if pending_removals:
        lines.append(
            f"  {pending_removals:,} removals wait on SendGrid's search to show them; "
            "the next run looks again"
        )
    if awaiting_search:
        lines.append(
            f"  {awaiting_search:,} sent in jobs that ended with errors SendGrid did "
            "not name wait on its search to show them applied; the next run looks again"
        )
    return lines
