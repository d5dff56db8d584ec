"""How run reports and progress read on a terminal (plans: `plan_output`)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import TextIO

from syncd.ledger import Rejection
from syncd.reconciling import RunReport

SHOWN_REJECTIONS = 10


def _rejections(lines: list[str], rejections: Iterable[Rejection], total: int) -> None:
    listed = list(rejections)[:SHOWN_REJECTIONS]
    for r in listed:
        lines.append(f"    {r.segment} row {r.row}: {r.reason}")
    if total > len(listed):
        lines.append(f"    … and {total - len(listed)} more (syncd status NAME --rejections)")


def run_text(report: RunReport) -> str:
    counts = report.counts()
    lines = [
        f"{report.destination}: {report.outcome} in {report.duration:.1f}s",
        f"  profiles {counts['profiles']:,} · upserted {counts['upserted']:,} · removed "
        f"{counts['removed']:,} · unchanged {counts['unchanged']:,} · rejected "
        f"{counts['rejected']:,}"
        + (f" · forgotten {counts['forgotten']:,}" if counts["forgotten"] else ""),
    ]
    _rejections(lines, [*report.staged.rejections, *report.rejections], report.rejected)
    if report.error:
        lines.append(f"  {report.error}")
    return "\n".join(lines)


class ProgressLine:
    """One line on a terminal, rewritten as a run goes; silent when not a terminal."""

    def __init__(self, destination: str, stream: TextIO = sys.stderr) -> None:
        self.destination = destination
        self.stream = stream
        self.enabled = stream.isatty()
        self.started = time.monotonic()
        self.submitted = 0

    def __call__(self, event: str, **counts: int) -> None:
        if not self.enabled:
            return
        if event == "submitted":
            self.submitted += counts.get("contacts", 0)
        text = {
            "reading": "reading segments…",
            "staged": f"read {counts.get('profiles', 0):,} profiles",
            "planned": f"sending {counts.get('upserts', 0):,} contacts, removing "
            f"{counts.get('removals', 0):,}…",
            "submitted": f"submitted {self.submitted:,} contacts, waiting for SendGrid…",
            "acknowledged": f"acknowledged {counts.get('upserted', 0):,} upserted, "
            f"{counts.get('removed', 0):,} removed",
        }.get(event, event)
        elapsed = time.monotonic() - self.started
        self.stream.write(f"\r\x1b[K{self.destination}: {text} ({elapsed:.0f}s)")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
