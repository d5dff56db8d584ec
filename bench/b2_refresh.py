"""B2: refresh of a 1,000,000-profile segment that did not change (0 writes).

    python -m bench.b2_refresh [--quick] [--profile] [--skip-10m]

The same as `python -m bench --only B2`: prints its rows of the table.
"""

from __future__ import annotations

import sys

from bench.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main(["--only", "B2", *sys.argv[1:]]))
