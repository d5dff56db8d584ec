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
import json
from pathlib import Path

from bench.floor import measure


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
