"""B3 again and again on one 1M world, to compare a change to the refresh path.

    python -m bench.b3_repeat [--runs 3] [--size 1000000]

`python -m bench --only B3` exports the world (and the peer's) each time, so its one B3
run costs minutes and varies with the machine. This exports once, then runs B3 `--runs`
times against the same emulator: each time the base file first (10,000 rows changed back
and 10,000 added back: the world as B3 starts it), then the B3 file, measured. The search
window (600 a minute per key) holds at most two B3 runs (200 searches each), so each B3
run waits for its share of the window. It prints each run's wall and CPU time, its ratio
to the floor, and its timeline from the emulator's request log (seconds from the launch).
"""

from __future__ import annotations

import argparse
import shutil
import time

from bench.common import WORK, exclusive, say
from bench.data import Dataset
from bench.emulator import EmulatorProcess
from bench.floor import measure_apart
from bench.plan import Plan, list_id, world_name
from bench.scenarios import Bench
from bench.worlds import measured_sync, sqlite_world

SEARCH_WINDOW_S = 60.0
B3_PER_WINDOW = 2
"""B3 runs whose searches fit in one window of the emulator's search rate limit."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.b3_repeat", description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument(
        "--profile", action="store_true", help="record each sync with py-spy (on PATH)"
    )
    args = parser.parse_args(argv)
    with exclusive():
        return _repeat(args.runs, args.size, profile=args.profile)


def _repeat(runs: int, size: int, *, profile: bool = False) -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    plan = Plan.make(quick=False, skip_10m=True)
    bench = Bench(plan=plan, only=frozenset({"B3"}), profile=profile)
    base, changed = Dataset(size).ensure(), Dataset(size, "b3").ensure()
    floor = measure_apart(changed, repeat=3)
    name = world_name("sqlite", size)
    failed = 0
    with EmulatorProcess({list_id(name): name}, WORK / "emulator") as emulator:
        bench.emulator = emulator
        world = sqlite_world(bench, size)
        say(f"B4 floor of the B3 file: {floor.seconds:.2f}s")
        started: list[float] = []
        for run in range(1, runs + 1):
            world.point_at(base)
            restore = measured_sync(bench, world, "restore")
            if len(started) >= B3_PER_WINDOW:  # let the earliest run's searches age out
                time.sleep(max(0.0, started[-B3_PER_WINDOW] + SEARCH_WINDOW_S - time.time()))
            started.append(time.time())
            world.point_at(changed)
            measured = measured_sync(bench, world, "b3")
            b3 = measured.run
            failed += int(b3.exit_code != 0 or restore.run.exit_code != 0)
            marks = ", ".join(f"{mark} {at}" for mark, at in measured.timeline.items())
            say(
                f"B3 run {run}: {b3.wall_s:.2f}s wall ({b3.wall_s / floor.seconds:.1f} x the "
                f"floor), CPU {b3.cpu_s:.2f}s, exit {b3.exit_code}, upserted "
                f"{b3.count('upserted'):,}, removed {b3.count('removed'):,}; {marks}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
