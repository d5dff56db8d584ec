"""B1: initial export of 100,000 profiles (CSV, seven fields) into an empty list.

    python -m bench.b1_initial_export [--quick] [--profile] [--skip-10m]

The same as `python -m bench --only B1`: prints its rows of the table.
"""

from __future__ import annotations

import sys

from bench.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main(["--only", "B1", *sys.argv[1:]]))
