"""`python -m bench`: B1-B4 (P1 plans the B3 change), scaling, daemon overhead; one table.

    python -m bench [--quick] [--only B1,B2,B3,B4,SCALING,AUDIT,DAEMON] [--skip-10m]
                    [--daemon-minutes 3] [--profile] [--json PATH]

Generated segment files are cached in bench/results/data/ (the first run writes about
1.7 GB); everything else is rebuilt each time. A second run waits for the first. The results go to
bench/results/latest.json (and latest.md, the table in Markdown). PostgreSQL comes
from SYNCD_BENCH_POSTGRES_DSN (default postgresql://postgres@127.0.0.1:5432/test); the
benchmark creates and drops its own schemas there.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import daemon_overhead, export_floor, ledgers, peers
from bench.common import (
    LATEST,
    RESULTS,
    WORK,
    exclusive,
    machine,
    markdown,
    say,
    table,
    write_json,
)
from bench.scenarios import SELECTABLE, Bench, Plan, attempt, run_all

BUDGET_S = 15 * 60


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, to check the harness (no targets)"
    )
    parser.add_argument(
        "--only",
        default=",".join(SELECTABLE),
        help=f"comma-separated subset of {','.join(SELECTABLE)} (default: all)",
    )
    parser.add_argument("--skip-10m", action="store_true", help="no 10M PostgreSQL refresh")
    parser.add_argument(
        "--daemon-minutes",
        type=float,
        default=3.0,
        help="how long to measure the daemon (default 3; the issue's figure is 10)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="record each sync with py-spy (must be on PATH) under bench/results/profiles/",
    )
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    only = {item.strip().upper() for item in args.only.split(",") if item.strip()}
    unknown = only - set(SELECTABLE)
    if unknown:
        parser.error(f"unknown in --only: {', '.join(sorted(unknown))}")
    args.only = frozenset(only)
    if args.profile and not shutil.which("py-spy"):
        parser.error("--profile needs py-spy on PATH (pip install py-spy)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    with exclusive():
        return _run(args, argv)


def _run(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    started = time.perf_counter()
    host = machine()
    plan = Plan.make(quick=args.quick, skip_10m=args.skip_10m)
    bench = Bench(plan=plan, only=args.only, profile=args.profile, quick=args.quick)
    bench.postgres_problem = ledgers.postgres_problem()
    if bench.postgres_problem and "SCALING" in args.only:
        say(f"PostgreSQL scenarios skipped: {bench.postgres_problem}")
    shutil.rmtree(WORK, ignore_errors=True)
    minutes = 1.0 if args.quick else args.daemon_minutes
    destinations = 20 if args.quick else 200

    def daemon(bench: Bench) -> None:
        def measure() -> None:
            phase = time.perf_counter()
            figures = daemon_overhead.measure(minutes, destinations=destinations)
            for result in daemon_overhead.results(figures):
                bench.add(result)
            bench.phase("daemon overhead", phase)

        attempt(bench, "daemon overhead", measure)

    try:
        run_all(bench, daemon)
    except KeyboardInterrupt:
        say("interrupted: the table holds what was measured so far")
    elapsed = time.perf_counter() - started
    results = bench.results
    if args.quick:
        for result in results:
            result.met = None
            result.target = ""
    print(table(results))
    print()
    for result in results:
        if result.note:
            print(f"- {result.scenario}: {result.note}")
    beside = peers.comparisons(bench)
    if beside:
        print()
        print("syncd beside the peer (bench/peer.py), same run, same emulator, same files:")
        print(peers.table(beside))
    floor = export_floor.beside_the_peer(bench)
    if floor is not None:
        print(floor[1])
    bound = peers.emulator_bound(bench)
    for line in bound:
        print(line)
    missed = [r.scenario for r in results if r.met is False]
    missed += [f"{row.path} (beside the peer)" for row in beside if row.met is False]
    print()
    print(
        f"{len(results)} rows in {elapsed / 60:.1f} min"
        + (f" (over the {BUDGET_S // 60}-minute budget)" if elapsed > BUDGET_S else "")
        + (f"; missed: {', '.join(missed)}" if missed else "; every target met")
    )
    document: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)]),
        "machine": host,
        "postgres": None if bench.postgres_problem else ledgers.server_facts(),
        "plan": asdict(plan),
        "quick": args.quick,
        "elapsed_s": round(elapsed, 1),
        "phases_s": bench.phases,
        "results": [r.as_json() for r in results],
        "beside_the_peer": peers.as_json(beside),
        "export_floor": None if floor is None else {"cpu_s": floor[0], "says": floor[1]},
        "emulator_bound": bound,
    }
    write_json(LATEST, document)
    beside_md = f"\n\n{peers.markdown(beside)}" if beside else ""
    beside_md += f"\n\n{floor[1]}" if floor is not None else ""
    beside_md += "".join(f"\n\n{line}" for line in bound)
    (RESULTS / "latest.md").write_text(markdown(results) + beside_md + "\n", encoding="utf-8")
    if args.json:
        write_json(Path(args.json), document)
    say(f"results: {LATEST}")
    return 1 if any(r.extra.get("exit_code") not in (None, 0) for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
