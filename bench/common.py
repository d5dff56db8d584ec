"""What every benchmark shares: where files go, one result row, the table, the machine."""

from __future__ import annotations

import compileall
import fcntl
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import syncd

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
RESULTS = ROOT / "results"  # gitignored: data, work directories, profiles, latest.json
DATA = RESULTS / "data"
WORK = RESULTS / "work"
PROFILES = RESULTS / "profiles"
LATEST = RESULTS / "latest.json"
PYTHON = sys.executable
API_KEY = "SG.bench-local-key.not-a-real-key-the-emulator-accepts-any"
PG_DSN = os.environ.get("SYNCD_BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class Result:
    """One row of the table; `extra` carries whatever else the JSON should keep."""

    scenario: str
    profiles: int
    wall_s: float | None = None
    floor_s: float | None = None
    peak_rss_mb: float | None = None
    requests: int | None = None
    writes: int | None = None
    sent: int | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.wall_s is None or not self.floor_s:
            return None
        return self.wall_s / self.floor_s

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


COLUMNS = (
    "scenario",
    "profiles",
    "wall s",
    "floor s",
    "x floor",
    "peak RSS MB",
    "requests (writes)",
    "sent",
    "target",
    "met?",
)


def _cells(result: Result) -> list[str]:
    def number(value: float | None, digits: int = 1) -> str:
        return "-" if value is None else f"{value:,.{digits}f}"

    requests = "-"
    if result.requests is not None:
        requests = f"{result.requests:,} ({result.writes if result.writes is not None else '-'})"
    met = {True: "yes", False: "NO", None: "-"}[result.met]
    return [
        result.scenario,
        f"{result.profiles:,}" if result.profiles else "-",
        number(result.wall_s, 2),
        number(result.floor_s, 2),
        number(result.ratio),
        number(result.peak_rss_mb, 0),
        requests,
        "-" if result.sent is None else f"{result.sent:,}",
        result.target,
        met,
    ]


def table(results: list[Result]) -> str:
    """A plain-text table for the terminal."""
    rows = [list(COLUMNS), *(_cells(r) for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    right = {1, 2, 3, 4, 5, 6, 7}
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(results: list[Result]) -> str:
    """The same table in Markdown, for docs/performance.md."""
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---" if i in (0, 8) else "---:" for i in range(len(COLUMNS))) + "|",
    ]
    for result in results:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in _cells(result)) + " |")
    notes = [f"- {r.scenario}: {r.note}" for r in results if r.note]
    return "\n".join(lines + (["", *notes] if notes else []))


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    memory_kb = next(
        (
            int(line.split()[1])
            for line in _read("/proc/meminfo").splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    source = Path(syncd.__file__).resolve().parent
    commit = "not this checkout"
    if source.is_relative_to(REPO):
        try:
            commit = _git("rev-parse", "--short", "HEAD")
            if _git("status", "--porcelain", "--", "src"):
                commit += " + uncommitted changes in src/"
        except OSError:
            commit = "unknown"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "busy_cores_at_start": round(busy_cores(0.5), 2),
        "syncd_commit": commit,
        "syncd_source": str(source),
    }


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.strip()


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@contextmanager
def exclusive() -> Iterator[None]:
    """One benchmark at a time on this checkout: two would share the cores (and the work
    directory), and both would report inflated figures. A second run waits."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / ".bench.lock").open("a+", encoding="ascii") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            say(f"another benchmark (pid {holder}) is running: waiting for it to finish…")
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        busy = busy_cores()
        if busy > 0.25:
            say(f"note: other processes keep {busy:.1f} cores busy: the figures may be inflated")
        compile_syncd()
        yield


def compile_syncd() -> None:
    """syncd's bytecode written, so that it is measured as installed. pip compiles an
    installed package (the container image's); an editable checkout run with
    PYTHONDONTWRITEBYTECODE set (as the image and some machines set it) would otherwise
    compile its 120-odd modules from source at every start, about 0.06 s of CPU each time
    (measured on a sync with nothing to send), a cost no user's installation pays."""
    compileall.compile_dir(Path(syncd.__file__).parent, quiet=1)


def busy_cores(seconds: float = 1.0) -> float:
    """How many cores other processes keep busy right now (from /proc/stat)."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in _read("/proc/stat").split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (ValueError, IndexError):
        return 0.0
    if total1 == total0:
        return 0.0
    return (os.cpu_count() or 1) * (1 - (idle1 - idle0) / (total1 - total0))


def say(message: str) -> None:
    """Progress on stderr, so stdout holds only the figures."""
    print(message, file=sys.stderr, flush=True)
