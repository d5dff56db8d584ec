"""Following a run as it goes: a bar on a terminal; otherwise a line at each new phase and
every few seconds within one.

It reads the `Progress` object of `syncd.shapes` (as the daemon's status carries it, or
as a local run's tracker renders it), so a run looks the same whoever runs it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

BAR_WIDTH = 24
LINE_EVERY = 5.0
"""Seconds between two lines when the output is not a terminal (a log, a CI job)."""


def duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def describe(progress: Mapping[str, Any]) -> str:
    """What the run is doing, in words: `sending 4,500 of 10,000 contacts · 2 jobs open`."""
    phase = progress.get("phase")
    jobs = int(progress.get("jobsOpen", 0))
    if phase == "reading":
        rows = int(progress.get("rowsRead", 0))
        # A read that scans the file's bytes (nothing staged) counts no rows as it goes.
        text = f"reading the segments: {rows:,} rows" if rows else "reading the segments"
    elif phase == "diffing":
        text = f"comparing {int(progress.get('rowsRead', 0)):,} rows with SendGrid"
    elif phase == "sending":
        text = f"sending {int(progress.get('sent', 0)):,} of {int(progress.get('toSend', 0)):,}"
        text += " contacts"
    elif phase == "removing":
        text = f"removing {int(progress.get('removed', 0)):,} of "
        text += f"{int(progress.get('toRemove', 0)):,} contacts"
    elif phase == "waitingForJobs":
        text = "waiting for SendGrid's jobs"
    else:
        text = str(phase)
    if jobs:
        text += f" · {jobs:,} job{'s' if jobs != 1 else ''} open"
    held = progress.get("rateLimitedUntil")
    if isinstance(held, str):
        text += f" · waiting for SendGrid's rate limit until {held[11:19]} UTC"
    eta = progress.get("etaSeconds")
    if isinstance(eta, int | float):
        text += f" · about {duration(eta)} left"
    return text


def bar(ratio: float | None) -> str:
    if ratio is None:
        return "[" + "·" * BAR_WIDTH + "]     "
    filled = round(ratio * BAR_WIDTH)
    return "[" + "#" * filled + "-" * (BAR_WIDTH - filled) + f"] {ratio:4.0%}"


class Follower:
    """Draws progress objects as they come; call `close()` before printing anything else."""

    def __init__(
        self,
        name: str,
        stream: TextIO | None = None,
        *,
        every: float = LINE_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty()
        self.every = every
        self.clock = clock
        self.started = clock()
        self._last_line: float | None = None
        self._last_phase: object = None
        self._drawn = False

    def __call__(self, progress: Mapping[str, Any] | None) -> None:
        if not progress:
            return
        elapsed = duration(self.clock() - self.started)
        ratio = progress.get("ratio")
        ratio = float(ratio) if isinstance(ratio, int | float) else None
        if self.terminal:
            line = f"{self.name} {bar(ratio)} {describe(progress)} ({elapsed})"
            self._clear_line()
            self.stream.write(line)
            self._drawn = True
        else:
            now = self.clock()
            phase = progress.get("phase")
            recent = self._last_line is not None and now - self._last_line < self.every
            if recent and phase == self._last_phase:
                return
            self._last_line, self._last_phase = now, phase
            done = "" if ratio is None else f" {ratio:.0%}"
            self.stream.write(f"{self.name}:{done} {describe(progress)} ({elapsed})\n")
        self.stream.flush()

    def close(self) -> None:
        if self._drawn:
            self._clear_line()
            self.stream.flush()
            self._drawn = False

    def _clear_line(self) -> None:
        """Back to the start of the line, erased: syncd's own control characters, written
        past the scrubber (which makes any control character in a text visible)."""
        raw = getattr(self.stream, "unscrubbed", self.stream)
        raw.write("\r\x1b[K")
