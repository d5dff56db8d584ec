"""How statuses and run histories read on a terminal (the JSON is `syncd.shapes` as is)."""

from __future__ import annotations

from syncd.cli.following import bar, describe, duration
from syncd.cli.output import problem_line
from syncd.logs import one_line
from syncd.shapes import DestinationStatus, Run, RunHistory, StatusDocument


def when(timestamp: str | None) -> str:
    """`2026-11-29T22:15:03Z` → `2026-11-29 22:15:03Z`; `-` for none."""
    return timestamp.replace("T", " ") if timestamp else "-"


def status_table(document: StatusDocument) -> str:
    lines = [
        f"{'DESTINATION':<28} {'STATE':<13} {'LAST RUN':<21} {'LAST SUCCESS':<21} NEXT RUN",
    ]
    for status in document.destinations:
        last = status.last_run
        lines.append(
            f"{status.name:<28} {status.shown_state:<13} "
            f"{when(last.ended_at or last.started_at if last else None):<21} "
            f"{when(status.last_success_at):<21} {status.next_run_shown(when)}"
        )
        if status.file_problems:
            lines += [
                f"  {problem_line(p.file, p.line, p.column, p.message)}"
                for p in status.file_problems
            ]
            lines.append(f"  its last good version runs (state: {status.state})")
        if status.progress is not None:
            lines.append(f"  {bar(status.progress.ratio)} {describe(status.progress.wire())}")
        elif last is not None and last.error and status.state != "ready":
            lines.append(f"  {last.outcome}: {last.error}")
    for invalid in document.invalid_files:
        if not any(s.file == invalid.file for s in document.destinations):
            lines.append(f"invalid file {one_line(invalid.file)} (not running):")
            lines += [
                f"  {problem_line(p.file, p.line, p.column, p.message)}" for p in invalid.problems
            ]
    for p in document.problems:
        lines.append(problem_line(p.file, p.line, p.column, p.message))
    if not document.destinations and not document.invalid_files:
        lines.append("no destinations")
    return "\n".join(lines)


def run_line(run: Run) -> str:
    counts = run.counts
    return (
        f"{run.outcome or 'running'}: profiles {counts.profiles:,} · upserted {counts.upserted:,}"
        f" · removed {counts.removed:,} · unchanged {counts.unchanged:,}"
        f" · rejected {counts.rejected:,}"
        + "".join(
            f" · {name} {value:,}"
            for name, value in (
                ("forgotten", counts.forgotten),
                ("kept", counts.kept),
                ("moved away", counts.moved_away),
            )
            if value
        )
    )


def status_detail(status: DestinationStatus) -> str:
    title = status.name + (f" ({status.display_name})" if status.display_name else "")
    lines = [f"{title}: {status.shown_state}"]
    lines.append(f"  file           {one_line(status.file)} (sha256 {status.digest[:12]})")
    for p in status.file_problems:
        lines.append(f"    {problem_line(p.file, p.line, p.column, p.message)}")
    if status.file_problems:
        lines.append(f"    its last good version runs (state: {status.state})")
    for c in status.conditions:
        since = f" since {when(c.last_transition_time)}" if c.last_transition_time else ""
        message = f": {c.message}" if c.message else ""
        lines.append(f"  {c.type:<14} {c.status} {c.reason}{since}{message}")
    last = status.last_run
    if last is not None:
        took = f" in {duration(last.duration_seconds)}" if last.duration_seconds is not None else ""
        number = f"#{last.id} " if last.id is not None else ""
        lines.append(f"  last run       {number}{last.trigger}, {when(last.started_at)}{took}")
        lines.append(f"                 {run_line(last)}")
        if last.error:
            lines.append(f"                 {last.error}")
    lines.append(f"  last success   {when(status.last_success_at)}")
    lines.append(f"  next run       {status.next_run_shown(when)}")
    if status.pending_removals:
        lines.append(f"  removals       {status.pending_removals:,} waiting on SendGrid's search")
    if status.drift is not None:
        d = status.drift
        lines.append(
            f"  last audit     {when(d.audited_at)}: {d.missing:,} missing, {d.extra:,} extra, "
            f"{d.stale:,} stale, {d.unacknowledged:,} unacknowledged"
            + (" (healed)" if d.healed else "")
        )
    if status.progress is not None:
        now = status.progress
        lines.append(f"  in progress    {bar(now.ratio)} {describe(now.wire())}")
    lines.append(f"  history        syncd history {status.name}")
    return "\n".join(lines)


def history_table(history: RunHistory) -> str:
    if not history.runs:
        return f"{history.destination}: no runs recorded"
    lines = [
        f"{'RUN':>6}  {'STARTED':<21} {'TRIGGER':<9} {'TOOK':>7}  {'OUTCOME':<10} "
        f"{'PROFILES':>9} {'UPSERTED':>9} {'REMOVED':>8} {'REJECTED':>8}"
    ]
    for run in history.runs:
        took = duration(run.duration_seconds) if run.duration_seconds is not None else "-"
        c = run.counts
        lines.append(
            f"{run.id or '-':>6}  {when(run.started_at):<21} {run.trigger:<9} {took:>7}  "
            f"{run.outcome or 'running':<10} {c.profiles:>9,} {c.upserted:>9,} {c.removed:>8,} "
            f"{c.rejected:>8,}"
        )
        if run.error:
            lines.append(f"{'':>8}{run.error}")
    return "\n".join(lines)


def _problem(file: str, line: int | None, column: int | None, message: str) -> str:
    where = file + (f":{line}" if line is not None else "") + (f":{column}" if column else "")
    return f"{where}: {message}"
