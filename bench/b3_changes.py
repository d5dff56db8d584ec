"""B3: the 1M segment with 1 % of profiles changed and 1 % gone.

    python -m bench.b3_changes [--quick] [--profile] [--skip-10m]

The same as `python -m bench --only B3`: prints its rows of the table.
"""

from __future__ import annotations

import sys

from bench.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main(["--only", "B3", *sys.argv[1:]]))
