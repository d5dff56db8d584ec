"""How a plan document reads: on a terminal (text), in a pull request (markdown), as JSON.

All three render `syncd.shapes.PlanDocument`, so a plan computed here and one the daemon
computed (`syncd plan --remote`) read the same. Addresses are whatever the document
holds (masked unless `--show-emails`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from syncd.cli.markdown import code, table
from syncd.cli.output import problem_line
from syncd.shapes import (
    STOPS_BEFORE_THE_DIFF,
    Example,
    FieldChange,
    PlanDocument,
    PlanEntry,
    PlanResult,
)

RESULT_TEXT: dict[PlanResult, str] = {
    "noChanges": "no changes",
    "changes": "changes",
    "blocked": "blocked by a guard",
    "invalid": "invalid file",
    "error": "error",
}
RESULT_MARK: dict[PlanResult, str] = {
    "noChanges": "✅ no changes",
    "changes": "📝 changes",
    "blocked": "⛔ blocked",
    "invalid": "❌ invalid file",
    "error": "❌ error",
}
# Guards first, then what fails, then what changes: what a reviewer must see first.
ORDER: dict[PlanResult, int] = {
    "blocked": 0,
    "invalid": 1,
    "error": 2,
    "changes": 3,
    "noChanges": 4,
}
KINDS = (("add", "Add", "+"), ("update", "Update", "~"), ("remove", "Remove", "-"))
MOVED_AWAY = "(on the former list, listId changed: forgotten, taken off neither list)"
HELD = (
    "(in a batch an earlier run began, or back while its removal may still land: "
    "the next runs send them)"
)


def plan_json(document: PlanDocument) -> str:
    return json.dumps(document.wire(), indent=2, ensure_ascii=False)


# -- text -------------------------------------------------------------------------------------


def plan_text(document: PlanDocument) -> str:
    if not document.destinations:
        return "no destinations to plan"
    return "\n\n".join(_entry_text(entry) for entry in document.destinations)


def _entry_text(entry: PlanEntry) -> str:
    first = " (first export)" if entry.first_export and entry.result != "error" else ""
    lines = [f"{entry.name}: plan: {RESULT_TEXT[entry.result]}{first}"]
    if entry.result == "invalid":
        lines += [f"  {problem_line(p.file, p.line, p.column, p.message)}" for p in entry.problems]
        return "\n".join(lines)
    if entry.result == "error":  # the counts stopped where the plan failed: none to trust
        return "\n".join([*lines, f"  error: {entry.error}"])
    c = entry.counts
    removals = "0 (onLeave: keep)" if c.kept else f"{c.gone:,}"
    if _diffed(entry):
        lines += [
            f"  profiles    {c.profiles:>9,}  from {c.rows:,} rows",
            f"  to add      {c.new:>9,}",
            f"  to update   {c.changed:>9,}",
            f"  to remove   {removals:>9}",
            f"  unchanged   {c.unchanged:>9,}",
        ]
        if c.held:
            lines.append(f"  held        {c.held:>9,}  {HELD}")
    elif c.rows:  # a guard stopped it before the diff: what was read, nothing to change
        lines.append(f"  profiles    {c.profiles:>9,}  from {c.rows:,} rows read")
    lines.append(f"  rejected    {c.rejected:>9,}")
    # The reasons right under their count: below a later count they read as its reasons.
    rejected = entry.examples.rejected
    lines += [f"    {_where(e)}: {e.reason}" for e in rejected]
    if c.rejected > len(rejected):
        lines.append(f"    … and {c.rejected - len(rejected):,} more")
    if c.forgotten:
        lines.append(f"  forgotten   {c.forgotten:>9,}  (syncd forget: never sent)")
    if c.moved_away:
        lines.append(f"  moved away  {c.moved_away:>9,}  {MOVED_AWAY}")
    for guard in entry.guards:
        lines += [f"  guard {guard.guard}: {guard.message}", f"    to pass: {guard.how_to_pass}"]
    if not entry.guards:
        lines.append("  guard: ok")
    if entry.error:
        lines.append(f"  error: {entry.error}")
    examples = [(mark, e) for kind, _, mark in KINDS for e in getattr(entry.examples, kind)]
    if examples:
        lines.append("  examples:")
        for mark, example in examples:
            changes = " · ".join(_change_text(change) for change in example.changes)
            where = f" ({_where(example)})" if example.segment else ""
            lines.append(f"    {mark} {example.email}{where}{': ' if changes else ''}{changes}")
    return "\n".join(lines)


def _diffed(entry: PlanEntry) -> bool:
    """Whether the plan came to compare the segments with SendGrid (its counts of contacts
    to add, update and remove mean something)."""
    return not any(guard.guard in STOPS_BEFORE_THE_DIFF for guard in entry.guards)


def _where(example: Example) -> str:
    if example.segment is None:
        return "leaving the list"
    return f"{example.segment} row {example.row}" if example.row else example.segment


def _change_text(change: FieldChange) -> str:
    before = f"{change.before} " if change.before is not None else ""
    after = change.after if change.after is not None else "(blank)"
    return f"{change.field}: {before}→ {after}"


# -- markdown ---------------------------------------------------------------------------------


def plan_markdown(document: PlanDocument) -> str:
    """A pull-request comment: guards, a summary table, then one section per destination."""
    entries = sorted(document.destinations, key=lambda e: (ORDER[e.result], e.name))
    parts = ["## syncd plan"]
    if not entries:
        return "## syncd plan\n\nNo destinations to plan."
    guards = [
        f"- ⛔ **{code(e.name)}**: guard {code(g.guard)}: {g.message}. **To pass:** "
        f"{g.how_to_pass}."
        for e in entries
        for g in e.guards
    ]
    if guards:
        parts.append("\n".join(guards))
    parts.append(
        table(
            ["destination", "result", "add", "update", "remove", "unchanged", "rejected"],
            [
                [
                    code(e.name),
                    RESULT_MARK[e.result],
                    *(
                        "—" if e.result in ("error", "invalid") or not _diffed(e) else f"{n:,}"
                        for n in (
                            e.counts.new,
                            e.counts.changed,
                            e.counts.gone - e.counts.kept,
                            e.counts.unchanged,
                            e.counts.rejected,
                        )
                    ),
                ]
                for e in entries
            ],
            numeric=(2, 3, 4, 5, 6),
        )
    )
    parts += [_entry_markdown(entry) for entry in entries]
    return "\n\n".join(parts) + "\n"


def _entry_markdown(entry: PlanEntry) -> str:
    c = entry.counts
    facts = [f"file {code(entry.file)}"]
    failed = entry.result in ("invalid", "error")
    if not failed and (c.rows or _diffed(entry)):
        facts.append(f"{c.profiles:,} profiles from {c.rows:,} rows")
    if entry.first_export and not failed:
        facts.append("first export: every contact is new to SendGrid")
    if c.kept:
        facts.append(f"{c.kept:,} leaving stay on the list, forgotten by syncd (onLeave: keep)")
    if c.forgotten:
        facts.append(f"{c.forgotten:,} rows of erased addresses left out (syncd forget)")
    if c.moved_away:
        facts.append(f"{c.moved_away:,} leaving {MOVED_AWAY}")
    if c.held:
        facts.append(f"{c.held:,} {HELD}")
    parts = [f"### {code(entry.name)}: {RESULT_MARK[entry.result]}", " · ".join(facts)]
    parts += [
        f"**Guard {code(g.guard)}**: {g.message}. **To pass:** {g.how_to_pass}."
        for g in entry.guards
    ]
    if entry.problems:
        parts.append(
            "\n".join(
                f"- {code(problem_line(p.file, p.line, p.column, p.message))}"
                for p in entry.problems
            )
        )
    if entry.error:
        parts.append(f"**Error**: {code(entry.error)}")
    totals = {"add": c.new, "update": c.changed, "remove": c.gone - c.kept}
    for kind, title, _ in KINDS:
        shown = getattr(entry.examples, kind)
        if shown:
            parts.append(_examples(title, totals[kind], shown, reasons=False))
    if entry.examples.rejected:
        parts.append(_examples("Rejected", c.rejected, entry.examples.rejected, reasons=True))
    return "\n\n".join(parts)


def _examples(title: str, total: int, shown: Sequence[Example], *, reasons: bool) -> str:
    count = f"{total:,}" + (f", the first {len(shown)}" if total > len(shown) else "")
    if not reasons and not any(e.changes or e.segment for e in shown):  # leavers
        return f"**{title}** ({count}): " + ", ".join(code(e.email) for e in shown)
    rows = [
        [
            code(e.email or "(no address)"),
            f"{code(e.segment)} row {e.row}" if e.segment and e.row else "",
            code(e.reason or "")
            if reasons
            else " · ".join(_change_markdown(change) for change in e.changes),
        ]
        for e in shown
    ]
    return f"**{title}** ({count})\n\n" + table(
        ["email", "from", "reason" if reasons else "changes"], rows
    )


def _change_markdown(change: FieldChange) -> str:
    before = f"{code(change.before)} " if change.before is not None else ""
    after = code(change.after) if change.after is not None else "(blank)"
    return f"{code(change.field)}: {before}→ {after}"
