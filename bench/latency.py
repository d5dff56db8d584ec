"""B3's change at 100k against an emulator that answers every request after a delay.

    python -m bench.latency [--rows 100000] [--latency 0.1] [--job-delay 0]

On loopback the emulator answers in a millisecond or two and its own CPU bounds how fast
a run's requests go; SendGrid answers over the internet, a round trip of a tenth of a
second or more, and a run that sends its requests one after another waits on every one.
This measures that: the emulator (`syncd emulator`, its own process) sleeps `--latency`
seconds before each answer; the list is exported (setup), then the B3 file of the same
rows is synced: 1 % of the profiles changed (one PUT) and 1 % gone (a search to find
each hundred, a removal, a job poll, a search to confirm). It prints the run's wall time,
the part spent applying (after the plan: `duration_s - planned_s` of its `reconcile.done`
line), the requests by kind and when the first and last of each kind were answered.
`--job-delay` holds every job pending that many seconds (SendGrid takes seconds to
minutes on an import job).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

from bench.common import PYTHON, REPO, WORK, exclusive
from bench.data import Dataset
from bench.emulator import summarize, timeline
from bench.plan import list_id
from bench.syncing import World, run_sync


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds before each answer")
    parser.add_argument(
        "--job-delay", type=float, default=0.0, help="seconds each job stays pending"
    )
    args = parser.parse_args(argv)
    with exclusive():
        return _measure(args.rows, args.latency, args.job_delay)


def _measure(rows: int, latency: float, job_delay: float) -> int:
    base, changed = Dataset(rows), Dataset(rows, "b3")
    base.ensure()
    changed.ensure()
    world = World("latency", list_id("latency")).create()
    seed = world.directory / "emulator-seed.yaml"
    seed.write_text(
        yaml.safe_dump(
            {
                "lists": [{"id": world.list_id, "name": "latency"}],
                "faults": [{"kind": "delay", "seconds": latency}],
            }
        ),
        encoding="utf-8",
    )
    emulator = subprocess.Popen(
        [
            *(PYTHON, "-m", "syncd", "emulator", "--host", "127.0.0.1", "--port", "0"),
            *("--seed", str(seed), "--job-delay", str(job_delay), "--quiet"),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert emulator.stdout is not None
        url = emulator.stdout.readline().strip().rsplit(" ", 1)[1]
        world.point_at(base.path)
        setup = run_sync(world, url)
        print(f"setup: {base.profiles:,} exported in {setup.wall_s:.1f}s", file=sys.stderr)
        world.point_at(changed.path)
        launched = time.time()
        run = run_sync(world, url)
        with urllib.request.urlopen(f"{url}/_emulator/requests", timeout=60) as answer:
            records = [r for r in json.loads(answer.read()) if float(r["time"]) >= launched]
    finally:
        emulator.terminate()
        emulator.wait()
    report = run.report
    applying = float(report["duration_s"]) - float(report["planned_s"])
    print(
        f"{changed.changed:,} changed and {changed.gone:,} gone of {rows:,}, "
        f"{latency * 1000:.0f} ms a request, jobs pending {job_delay:g} s: "
        f"wall {run.wall_s:.2f}s, applying "
        f"{applying:.2f}s (upserted {report['upserted']:,}, removed {report['removed']:,}); "
        f"log {Path(run.log or WORK).name}"
    )
    marks = timeline(records, launched, run.wall_s)
    print(
        "requests: " + ", ".join(f"{kind} {count:,}" for kind, count in summarize(records).items())
    )
    print("seconds from the launch: " + ", ".join(f"{mark} {at}" for mark, at in marks.items()))
    return 0 if run.exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
