"""The status pages: `/` (every destination) and `/destinations/{name}` (one, in depth).

Read-only HTML rendered on the server from the same objects as the JSON API
(`syncd.shapes`), plus the ledger's history, open batches and rejected rows. Addresses
in rejected rows are masked unless the request carries the admin token and asks
(`?showEmails=true`; a browser is asked for the token as a password). Every value is
escaped, and every text passes the scrubber as the JSON does.
"""

from __future__ import annotations

import asyncio
from html import escape
from pathlib import PurePath

from aiohttp import web

from syncd.ledger import Ledger
from syncd.scheduling import Scheduler, UnknownDestination, history_shape
from syncd.serving.auth import AdminGate
from syncd.serving.page_layout import badge, page, text, when
from syncd.serving.page_sections import (
    SHOWN_REJECTIONS,
    batches_section,
    rejections_section,
    runs_section,
)
from syncd.shapes import DestinationStatus, Run, StatusDocument

CHART_RUNS = 30
SCHEDULER_KEY = web.AppKey("pages_scheduler", Scheduler)
LEDGER_KEY: web.AppKey[Ledger] = web.AppKey("pages_ledger")
GATE_KEY = web.AppKey("pages_gate", AdminGate)


def _state_badge(status: DestinationStatus) -> str:
    if status.file_problems:
        return badge("invalid", "file invalid") + " " + badge(status.state, status.state)
    return badge(status.state, status.state)


def _run_summary(run: Run) -> str:
    c = run.counts
    took = f", took {run.duration_seconds:.1f} s" if run.duration_seconds is not None else ""
    return (
        f"{text(run.outcome or 'running')} ({text(run.trigger)}), {when(run.started_at)}{took}: "
        f"{c.profiles:,} profiles, {c.upserted:,} sent, {c.removed:,} removed, "
        f"{c.rejected:,} rejected"
        + (f"<br><span class='muted'>{text(run.error)}</span>" if run.error else "")
    )


def _progress(status: DestinationStatus) -> str:
    p = status.progress
    if p is None:
        return ""
    label = f"{p.phase}: {p.sent:,} of {p.to_send:,} sent, {p.removed:,} of {p.to_remove:,} removed"
    label += f", {p.rows_read:,} rows read, {p.jobs_open} jobs open"
    if p.eta_seconds is not None:
        label += f", about {p.eta_seconds:.0f} s left"
    if p.rate_limited_until is not None:
        label += f", waiting for SendGrid's rate limit until {p.rate_limited_until}"
    meter = (
        f'<progress max="1" value="{p.ratio}" aria-label="run progress"></progress> '
        if p.ratio is not None
        else '<progress aria-label="run progress"></progress> '
    )
    return f"<dt>In progress</dt><dd>{meter}{text(label)}</dd>"


def _problems(status: DestinationStatus) -> str:
    if not status.file_problems:
        return ""
    items = "".join(
        f"<li><code>{text(PurePath(p.file).name)}{f':{p.line}' if p.line else ''}"
        f"{f':{p.column}' if p.column else ''}</code>: {text(p.message)}</li>"
        for p in status.file_problems
    )
    return (
        "<dt>File problems</dt><dd><ul class='problems'>"
        f"{items}</ul>its last good version runs until the file is fixed</dd>"
    )


def _conditions(status: DestinationStatus, *, open_: bool) -> str:
    rows = "".join(
        f"<li>{text(c.type)}: <strong>{text(c.status)}</strong> ({text(c.reason)})"
        f"{' · ' + text(c.message) if c.message else ''}"
        f"{' · since ' + when(c.last_transition_time) if c.last_transition_time else ''}</li>"
        for c in status.conditions
    )
    if not rows:
        return ""
    summary = ", ".join(f"{c.type} {c.status}" for c in status.conditions)
    return (
        f"<dt>Conditions</dt><dd><details{' open' if open_ else ''}><summary>{text(summary)}"
        f"</summary><ul class='muted'>{rows}</ul></details></dd>"
    )


def card(status: DestinationStatus, *, link: bool) -> str:
    anchor = f"d-{escape(status.name)}"
    name = (
        f'<a href="/destinations/{escape(status.name)}">{escape(status.name)}</a>'
        if link
        else escape(status.name)
    )
    display = (
        f' <span class="muted">{text(status.display_name)}</span>' if status.display_name else ""
    )
    drift = status.drift
    drift_text = (
        f"audited {when(drift.audited_at)}: {drift.missing:,} missing, {drift.extra:,} extra, "
        f"{drift.stale:,} stale"
        if drift
        else '<span class="muted">not audited</span>'
    )
    last = (
        _run_summary(status.last_run) if status.last_run else '<span class="muted">none yet</span>'
    )
    return (
        f'<article class="card" aria-labelledby="{anchor}">'
        f'<div class="card-head"><h3 id="{anchor}">{name}</h3>{_state_badge(status)}{display}</div>'
        f"<dl>{_progress(status)}{_problems(status)}"
        f"<dt>Last run</dt><dd>{last}</dd>"
        f"<dt>Last success</dt><dd>{when(status.last_success_at)}</dd>"
        f"<dt>Next run</dt><dd>{status.next_run_shown(when)}</dd>"
        f"<dt>Drift</dt><dd>{drift_text}</dd>"
        f"{_conditions(status, open_=not link)}</dl></article>"
    )


def index_body(document: StatusDocument) -> str:
    counts: dict[str, int] = {}
    for status in document.destinations:
        counts[status.shown_state] = counts.get(status.shown_state, 0) + 1
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "none"
    # An invalid file whose destination runs its last good version is counted above.
    running = {s.file for s in document.destinations}
    idle = [f for f in document.invalid_files if f.file not in running]
    if idle:
        summary += f"; {len(idle)} invalid file(s) not running"
    parts = [
        f"<p>{len(document.destinations)} destinations: {escape(summary)}.</p>",
        '<ul class="cards" aria-label="destinations">',
        *(f"<li>{card(s, link=True)}</li>" for s in document.destinations),
        "</ul>",
    ]
    if idle:
        parts.append("<h2>Invalid files (not running)</h2><ul class='problems'>")
        for invalid in idle:
            for p in invalid.problems:
                name = PurePath(p.file).name
                where = f"{name}:{p.line}" if p.line else name
                parts.append(f"<li><code>{text(where)}</code>: {text(p.message)}</li>")
        parts.append("</ul>")
    if document.problems:
        parts.append("<h2>Other problems</h2><ul class='problems'>")
        parts += [f"<li>{text(p.file)}: {text(p.message)}</li>" for p in document.problems]
        parts.append("</ul>")
    return "".join(parts)


async def index(request: web.Request) -> web.Response:
    return page("destinations", index_body(request.app[SCHEDULER_KEY].statuses()))


async def destination(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    try:
        status = request.app[SCHEDULER_KEY].status(name)
    except UnknownDestination:
        return page("not found", f"<p>No destination named {text(name)}.</p>", status=404)
    shown = request.query.get("showEmails", "").lower() in ("1", "true", "yes")
    if shown:
        refused = await request.app[GATE_KEY].personal_data(request)
        if refused is not None:
            return _token_needed(name, refused)
    ledger = request.app[LEDGER_KEY]
    records = await asyncio.to_thread(ledger.runs, name, CHART_RUNS)
    runs = [history_shape(r) for r in records]
    batches = await asyncio.to_thread(ledger.open_batches, name)
    finished = next((r for r in runs if r.outcome is not None), None)
    rejections = (
        await asyncio.to_thread(ledger.rejections, finished.id, SHOWN_REJECTIONS)
        if finished is not None and finished.id is not None
        else []
    )
    body = (
        card(status, link=False)
        + runs_section(runs)
        + batches_section(batches)
        + rejections_section(name, finished, rejections, shown=shown)
    )
    response = page(name, body)
    if shown:
        response.headers["Cache-Control"] = "no-store, private"
    return response


def _token_needed(name: str, status: int) -> web.Response:
    body = (
        "<p>Showing addresses needs the admin token (SYNCD_ADMIN_TOKEN; without one, the "
        "host token beside the ledger). Give any user name and the token as the password, "
        f'or go <a href="/destinations/{escape(name)}">back to the masked view</a>.</p>'
    )
    response = page("admin token needed", body, status=status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="syncd admin token", charset="UTF-8"'
    return response


def add_pages(app: web.Application, scheduler: Scheduler, ledger: Ledger, gate: AdminGate) -> None:
    app[SCHEDULER_KEY] = scheduler
    app[LEDGER_KEY] = ledger
    app[GATE_KEY] = gate
    app.router.add_get("/", index)
    app.router.add_get("/destinations/{name}", destination)
