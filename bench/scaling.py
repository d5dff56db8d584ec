"""Scaling: B2 at 10k, 100k, 1M (SQLite) and 1M, 10M (PostgreSQL).

    python -m bench.scaling [--quick] [--profile] [--skip-10m]

The same as `python -m bench --only SCALING`: prints its rows of the table.
"""

from __future__ import annotations

import sys

from bench.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main(["--only", "SCALING", *sys.argv[1:]]))
