"""The status pages' parts that need no browser: colours that can be read, a chart that
says what it shows, and a policy that lets nothing in but the page's own style and script."""

from __future__ import annotations

import pytest

from syncd.serving.chart import history_chart
from syncd.serving.page_layout import PALETTE, POLICY, SCRIPT, STYLE, page
from syncd.shapes import Counts, Run


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("kind", sorted(PALETTE))
def test_every_text_colour_meets_wcag_aa_on_its_background(kind: str) -> None:
    assert contrast(*PALETTE[kind]) >= 4.5


def test_the_chart_is_an_image_with_a_text_alternative_and_a_tooltip_per_run() -> None:
    runs = [
        Run(
            id=2,
            trigger="manual",
            started_at="2026-11-29T22:00:00Z",
            duration_seconds=3.0,
            outcome="permanent",
            counts=Counts(upserted=5),
        ),
        Run(
            id=1,
            trigger="schedule",
            started_at="2026-11-29T21:00:00Z",
            duration_seconds=1.0,
            outcome="success",
            counts=Counts(upserted=10, removed=2),
        ),
    ]
    svg = history_chart(runs)
    assert 'role="img"' in svg
    assert (
        '<desc id="chart-desc">2 runs, oldest on the left: 1 succeeded or running, 1 failed' in svg
    )
    assert svg.count("<title>run ") == 4  # two rows of bars, one per run each
    assert svg.index("run 1 (schedule)") < svg.index("run 2 (manual)")


def test_the_page_allows_only_its_own_style_and_script() -> None:
    response = page("x", "<p>x</p>")
    assert response.headers["Content-Security-Policy"] == POLICY
    assert "default-src 'none'" in POLICY
    assert "unsafe-inline" not in POLICY
    assert response.text is not None
    assert STYLE in response.text
    assert SCRIPT in response.text
    assert "http" not in STYLE + SCRIPT  # nothing fetched from anywhere
