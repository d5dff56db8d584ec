"""B4, the floor: read and parse a segment file with the standard library alone.

`csv.reader` over the file, touching every field of every row: what any program
must pay to read the source. Each syncd run is reported as a ratio to this.

    python -m bench.b4_floor FILE.csv [--repeat N] [--json]

prints the rows and the best time of N reads (warm page cache: the file was just
written or read, as it is for the syncd runs measured against it). Without a file,
it measures every file the benchmark uses (`python -m bench --only B4`).
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description="B4: read a CSV with csv.reader alone")
    parser.add_argument("path", type=Path, nargs="?")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.path is None:
        from bench.__main__ import main as bench_main  # the whole B4 row set

        raise SystemExit(bench_main(["--only", "B4"]))
    floor = measure(args.path, args.repeat)
    if args.json:
        print(json.dumps({"rows": floor.rows, "seconds": floor.seconds}))
    else:
        rate = floor.rows / floor.seconds if floor.seconds else 0
        print(
            f"B4 floor {args.path.name}: {floor.rows:,} rows in {floor.seconds:.3f}s "
            f"(best of {args.repeat}; {rate:,.0f} rows/s)"
        )


if __name__ == "__main__":
    main()
