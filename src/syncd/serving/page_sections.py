"""The tables of one destination's page: its last runs, its open batches, and the rows its
last run could not send (addresses masked unless `shown`). Every cell is escaped here."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from syncd.ledger import Batch, Rejection
from syncd.logs import scrub
from syncd.serving.chart import history_chart
from syncd.serving.page_layout import text, when
from syncd.shapes import Run, iso, mask_email

SHOWN_REJECTIONS = 100


def _table(caption: str, head: list[str], rows: Iterable[Iterable[str]]) -> str:
    """A table in a keyboard-scrollable region (phones); cells are trusted HTML; a heading
    ending in `#` is a number column (aligned right)."""
    header = "".join(
        f'<th scope="col"{" class=n" if h.endswith("#") else ""}>{escape(h.rstrip("#"))}</th>'
        for h in head
    )
    numeric = [h.endswith("#") for h in head]
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=n' if n else ''}>{cell}</td>"
            for cell, n in zip(row, numeric, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="scroll" role="region" tabindex="0" aria-label="{escape(caption)}">'
        f"<table><caption class='muted'>{escape(caption)}</caption><thead><tr>{header}</tr>"
        f"</thead><tbody>{body}</tbody></table></div>"
    )


def runs_section(runs: list[Run]) -> str:
    if not runs:
        return "<h2>Run history</h2><p class='muted'>No runs recorded yet.</p>"
    rows = [
        [
            str(r.id),
            when(r.started_at),
            text(r.trigger),
            f"{r.duration_seconds:.1f} s" if r.duration_seconds is not None else "-",
            text(r.outcome or "running"),
            f"{r.counts.profiles:,}",
            f"{r.counts.upserted:,}",
            f"{r.counts.removed:,}",
            f"{r.counts.rejected:,}",
            text(r.error or ""),
        ]
        for r in runs
    ]
    head = ["Run#", "Started", "Trigger", "Took#", "Outcome", "Profiles#", "Sent#", "Removed#"]
    caption = "The last run" if len(runs) == 1 else f"The last {len(runs)} runs, newest first"
    return (
        "<h2>Run history</h2>"
        + history_chart(runs)
        + _table(caption, [*head, "Rejected#", "Error"], rows)
    )


def batches_section(batches: list[Batch]) -> str:
    if not batches:
        return "<h2>Open batches and jobs</h2><p class='muted'>None: the outbox is empty.</p>"
    rows = [
        [
            str(b.id),
            text(b.kind),
            _batch_state(b),
            f"{b.size:,}",
            text(b.job_id or "-"),
            when(iso(b.created_at)),
            str(b.sends),
        ]
        for b in batches
    ]
    head = ["Batch#", "Kind", "State", "Contacts#", "Job", "Recorded", "Sends#"]
    return "<h2>Open batches and jobs</h2>" + _table("Batches not yet finished", head, rows)


def _batch_state(batch: Batch) -> str:
    """A batch's state in words: its sends are counted as its request goes out."""
    if batch.state == "submitted":
        return "job open at SendGrid"
    if batch.sends:
        return "sent, no answer yet (or sent again soon)"
    return "recorded, not sent yet"


def rejections_section(
    name: str, run: Run | None, rejections: list[Rejection], *, shown: bool
) -> str:
    title = "<h2>Rejected rows of the last run</h2>"
    if run is None or not rejections:
        return title + "<p class='muted'>None.</p>"
    rows = [
        [
            text(r.segment or "(leaver)"),
            str(r.row or "-"),
            escape(r.email if shown else mask_email(r.email) if r.email else "-"),
            escape(scrub(r.reason, addresses=not shown)),
        ]
        for r in rejections
    ]
    more = (
        f" (the first {SHOWN_REJECTIONS} of {run.counts.rejected:,})"
        if run.counts.rejected > len(rejections)
        else ""
    )
    toggle = (
        f'<p><a href="/destinations/{escape(name)}">Mask the addresses</a></p>'
        if shown
        else f'<p><a href="/destinations/{escape(name)}?showEmails=true">Show the addresses</a>'
        " <span class='muted'>(personal data: asks for the admin token)</span></p>"
    )
    caption = f"Rows run {run.id} could not send{more}"
    return title + toggle + _table(caption, ["Segment", "Row#", "Email", "Reason"], rows)
