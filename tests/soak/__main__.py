"""Soak: the long versions of the guarantee scenarios, printing their figures.

The suite (`make test`) runs every row of docs/guarantees.md in a short, bounded form.
This runs the randomised ones for longer and with several seeds, and prints what each
round measured (one JSON line per round), then a summary per row; it exits non-zero if
any round failed. Commands (from the repository root):

    .venv/bin/python -m tests.soak                          # all, about 20 minutes
    .venv/bin/python -m tests.soak --only d2 --seconds 1800 --rounds 3 --seed 7
    .venv/bin/python -m tests.soak --only w1 --swaps 1000
    .venv/bin/python -m tests.soak --only k1 --cycles 60
    .venv/bin/python -m tests.soak --only d1 --rounds 5     # the crash matrix, repeated

Each round is a pytest run of the scenario's test module with its knobs set through the
environment (SYNCD_CHAOS_SECONDS, SYNCD_W1_SWAPS, SYNCD_K1_CYCLES, SYNCD_TEST_SEED) and
its figures collected through SYNCD_FIGURES_FILE.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MODULES = {
    "d1": "tests/guarantees/test_d1_crash_matrix.py",
    "d2": "tests/guarantees/test_d2_random_kills.py",
    "w1": "tests/guarantees/test_w1_configmap_swaps.py",
    "k1": "tests/guarantees/test_k1_sigterm.py",
}
# Figures summed over rounds, and figures whose worst value counts.
SUMMED = (
    "lost",
    "overlaps",
    "kills",
    "failpoint_crashes",
    "ledger_doubles",
    "unnecessary",
    "redundant_requests",
)
WORST = ("slowest_s", "slowest_stop_s", "sigterm_lost_during_interpreter_start_s")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--only", default="d1,d2,w1,k1", help="comma-separated: d1,d2,w1,k1")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each, seeds seed, seed+1...")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("--seconds", type=float, default=300, help="D2: chaos per round")
    parser.add_argument("--swaps", type=int, default=500, help="W1: ConfigMap swaps per round")
    parser.add_argument("--cycles", type=int, default=30, help="K1: SIGTERMs per round")
    return parser.parse_args(argv)


def round_env(args: argparse.Namespace, seed: int, figures: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SYNCD_TEST_SEED": str(seed),
        "SYNCD_FIGURES_FILE": str(figures),
        "SYNCD_CHAOS_SECONDS": str(args.seconds),
        "SYNCD_W1_SWAPS": str(args.swaps),
        "SYNCD_K1_CYCLES": str(args.cycles),
    }


def summarise(figures: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    summary: dict[str, dict[str, Any]] = defaultdict(dict)
    for figure in figures:
        key = figure["row"] + (f" ({figure['case']})" if "case" in figure else "")
        row = summary[key]
        row["rounds"] = row.get("rounds", 0) + 1
        for key in SUMMED:
            if key in figure:
                row[key] = row.get(key, 0) + figure[key]
        for key in WORST:
            if key in figure:
                row[key] = max(row.get(key, 0), figure[key])
    return summary


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - MODULES.keys()
    if unknown:
        print(f"unknown scenarios: {', '.join(sorted(unknown))}; known: {', '.join(MODULES)}")
        return 2
    failed: list[str] = []
    collected: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="syncd-soak-") as scratch:
        for name in chosen:
            for n in range(args.rounds):
                seed = args.seed + n
                figures = Path(scratch) / f"{name}-{seed}.jsonl"
                command = [
                    sys.executable,
                    "-m",
                    "pytest",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    MODULES[name],
                ]
                print(f"== {name} round {n + 1}/{args.rounds}, seed {seed}", flush=True)
                started = time.monotonic()
                done = subprocess.run(
                    command, cwd=ROOT, env=round_env(args, seed, figures), check=False
                )
                lines = figures.read_text().splitlines() if figures.exists() else []
                for line in lines:
                    figure = json.loads(line)
                    collected.append(figure)
                    print(f"   {line}")
                verdict = "passed" if done.returncode == 0 else "FAILED"
                print(f"   {verdict} in {time.monotonic() - started:.0f}s")
                if done.returncode != 0:
                    failed.append(f"{name} seed {seed}")
    print("== summary")
    for row, values in sorted(summarise(collected).items()):
        print(f"   {row}: {json.dumps(values, sort_keys=True)}")
    if failed:
        print(f"== FAILED: {', '.join(failed)}")
        return 1
    print("== every round passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
