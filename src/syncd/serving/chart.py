"""A destination's run history as an SVG chart, drawn on the server (no script, no assets).

Two rows of bars share one time axis, oldest run on the left: how long each run took,
and how many contacts it sent and removed. A bar's colour says its outcome, and so
does its tooltip (`<title>`) in words; the chart is an image with a text alternative,
and the page lists the same runs as a table for whoever cannot see it.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from syncd.shapes import Run

WIDTH = 720
ROW_HEIGHT = 90
GAP = 34
LEFT = 64
RIGHT = 12
TOP = 22
SLOTS = 30
"""Bars are this wide at least: a short history does not look like a few huge runs."""
OUTCOME_COLOURS = {
    "success": "#1a7f37",
    "guard": "#9a6700",
    "temporary": "#cf222e",
    "permanent": "#a40e26",
    "unexpected": "#a40e26",
    None: "#0969da",  # running
}


def _nice(value: float) -> float:
    """The axis maximum: the value rounded up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _label(value: float, unit: str) -> str:
    if unit == "s" and value >= 120:
        return f"{value / 60:.0f} min"
    return f"{value:,.0f}{' s' if unit == 's' else ''}"


def _row(
    runs: Sequence[Run], values: Sequence[float], title: str, unit: str, top: float
) -> list[str]:
    plot = WIDTH - LEFT - RIGHT
    ceiling = _nice(max(values, default=0.0))
    slots = max(len(runs), SLOTS)
    slot = plot / slots
    bar = max(2.0, min(24.0, slot * 0.7))
    first = slots - len(runs)  # the newest run always on the right edge
    parts = [
        f'<text x="{LEFT}" y="{top - 6:.0f}" class="caption">{escape(title)}</text>',
        f'<line x1="{LEFT}" y1="{top + ROW_HEIGHT}" x2="{WIDTH - RIGHT}" '
        f'y2="{top + ROW_HEIGHT}" class="axis"/>',
        f'<text x="{LEFT - 6}" y="{top + 4:.0f}" class="tick">{_label(ceiling, unit)}</text>',
        f'<text x="{LEFT - 6}" y="{top + ROW_HEIGHT:.0f}" class="tick">0</text>',
    ]
    for index, (run, value) in enumerate(zip(runs, values, strict=True)):
        height = max(1.0, ROW_HEIGHT * value / ceiling) if value else 1.0
        x = LEFT + (first + index) * slot + (slot - bar) / 2
        y = top + ROW_HEIGHT - height
        colour = OUTCOME_COLOURS.get(run.outcome, OUTCOME_COLOURS["unexpected"])
        tip = (
            f"run {run.id} ({run.trigger}) {run.started_at}: {run.outcome or 'running'}, "
            f"{_label(value, unit)}"
        )
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" '
            f'fill="{colour}"><title>{escape(tip)}</title></rect>'
        )
    return parts


def history_chart(runs: Sequence[Run]) -> str:
    """`runs` newest first, as the ledger lists them; drawn oldest first."""
    ordered = list(reversed(runs))
    durations = [r.duration_seconds or 0.0 for r in ordered]
    contacts = [float(r.counts.upserted + r.counts.removed) for r in ordered]
    height = TOP + 2 * ROW_HEIGHT + GAP + 26
    failed = sum(1 for r in ordered if r.outcome not in ("success", None))
    longest = _label(max(durations, default=0), "s")
    summary = (
        f"{len(ordered)} runs, oldest on the left: {len(ordered) - failed} succeeded or "
        f"running, {failed} failed or held back; longest took {longest}, "
        f"most contacts sent and removed in one run: {max(contacts, default=0):,.0f}."
    )
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">',
        '<title id="chart-title">Run history</title>',
        f'<desc id="chart-desc">{escape(summary)}</desc>',
    ]
    parts += _row(ordered, durations, "Duration", "s", TOP)
    parts += _row(ordered, contacts, "Contacts sent and removed", "", TOP + ROW_HEIGHT + GAP)
    legend_y = height - 6
    x = LEFT
    for outcome, words in (
        ("success", "success"),
        ("temporary", "failed"),
        ("guard", "held by a guard"),
        (None, "running"),
    ):
        parts.append(
            f'<rect x="{x}" y="{legend_y - 10}" width="10" height="10" '
            f'fill="{OUTCOME_COLOURS[outcome]}"/>'
            f'<text x="{x + 14}" y="{legend_y}" class="legend">{words}</text>'
        )
        x += 24 + 8 * len(words)
    parts.append("</svg>")
    return "".join(parts)
