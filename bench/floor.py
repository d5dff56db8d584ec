"""The floor of B4: read and parse a segment file with the standard library alone.

`csv.reader` over the file, touching every field of every row: what any program must pay to
read the source. Each syncd run is reported as a ratio to this. The command line is
`python -m bench.b4_floor` (its own module, so that this library imports no entry point).
"""

from __future__ import annotations

import csv
import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import PYTHON, REPO


def read_source(path: Path) -> tuple[int, int]:
    """(rows, characters) of a CSV file, every field touched."""
    rows = characters = 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        for record in reader:
            rows += 1
            for value in record:
                characters += len(value)
    return rows, characters


@dataclass(frozen=True)
class Floor:
    rows: int
    seconds: float


def measure(path: Path, repeat: int = 1) -> Floor:
    """The best of `repeat` reads, in this process."""
    best = float("inf")
    rows = 0
    for _ in range(repeat):
        started = time.perf_counter()
        rows, _ = read_source(path)
        best = min(best, time.perf_counter() - started)
    return Floor(rows, best)


def measure_apart(path: Path, repeat: int = 1) -> Floor:
    """`measure` in a fresh interpreter, so the caller's heap does not slow the reads."""
    completed = subprocess.run(
        [PYTHON, "-m", "bench.b4_floor", str(path), "--repeat", str(repeat), "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(completed.stdout)
    return Floor(int(figures["rows"]), float(figures["seconds"]))
