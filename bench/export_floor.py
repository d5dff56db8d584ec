"""What a first export must cost syncd at the least, beside what the peer costs in all.

    python -m bench.export_floor [--rows 100000] [--repeat 3]

The B1 target asks syncd for at most half the peer's CPU. This measures, in one fresh
process, the parts of a first export that syncd's contract cannot skip, each on its own
and without any of the rest of a run (no snapshot, no HTTP, no event loop):

- start-up: the interpreter and the modules a `syncd sync` imports (the client, the
  ledger, the settings and destination models, the logging), nothing else run;
- parse: the CSV read by the csv module, the same reader the peer uses;
- contacts: each row keyed, built and encoded exactly as a run does (`ContactBuilder`,
  `Outgoing`): the checks against SendGrid's limits, the fingerprints, the body bytes;
- outbox: each batch of 30,000 recorded in a fresh SQLite ledger before its request, its
  job id recorded, then acknowledged after its job (`prepare`, `submitted`, `complete`):
  what "nothing lost across crashes" costs when nothing goes wrong.

Then the peer itself (`bench/peer.py`'s reading and hashing, no HTTP), in this process.
CPU is `process_time`, the best of `--repeat` passes for each stage; start-up is that of
a child process (user + system). The sum is a floor: a run also stages, sorts and sends.
"""

from __future__ import annotations

import argparse
import csv
import gc
import hashlib
import json
import resource
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import PYTHON, REPO, say
from bench.data import Dataset
from bench.peer import read_segment
from bench.peers import EXPORT_CPU_RATIO
from bench.plan import Bench, label
from bench.syncing import MAPPING
from syncd.contacts import ContactBuilder, FieldBinding, Outgoing
from syncd.destinations import Mapping
from syncd.ledger import OutboxItem, open_ledger

BATCH = 30_000
START_UP = (
    "import syncd.cli, syncd.cli.syncing, syncd.reconciling.one_run, syncd.sendgrid.client, "
    "syncd.ledger.sqlite, syncd.settings"
)


LABELS = {
    "start_up": "start-up (child process)",
    "parse": "parse (csv module)",
    "contacts": "contacts: key, build, encode",
    "outbox": "outbox: record, submit, acknowledge",
    "floor": "syncd's floor (sum)",
    "peer_read_hash": "peer: read, hash (no HTTP)",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.export_floor", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="one JSON object, seconds by stage")
    args = parser.parse_args(argv)
    path = Dataset(args.rows).ensure(quiet=args.json)
    gc.freeze()  # as the `syncd` program does once started (`syncd.cli.entry`)
    figures = measure(path, args.repeat)
    if args.json:
        print(json.dumps({key: round(seconds, 3) for key, seconds in figures.items()}))
        return 0
    width = max(map(len, LABELS.values()))
    for key, seconds in figures.items():
        print(f"{LABELS[key]:<{width}}  {seconds:6.2f} s")
    return 0


def beside_the_peer(bench: Bench) -> tuple[dict[str, float], str] | None:
    """B1's floor, measured in a child process after B1 and its peer ran, and what it says
    about the CPU target; None when the run has no B1 peer figure."""
    peer = bench.peer_runs.get(f"export {label(bench.plan.b1)}")
    if peer is None or not peer.cpu_s:
        return None
    command = [PYTHON, "-m", "bench.export_floor", "--rows", str(bench.plan.b1), "--json"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        say(f"  the export floor was not measured: {done.stderr.strip()[-500:]}")
        return None
    figures: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    target = EXPORT_CPU_RATIO * peer.cpu_s
    stages = {"start_up": "start-up", "parse": "parse", "contacts": "contacts", "outbox": "outbox"}
    shown = " + ".join(f"{name} {figures[key]:.2f}" for key, name in stages.items())
    alone = [name for key, name in stages.items() if figures[key] >= target]
    listed = (
        ", ".join(alone[:-1]) + (" and " if len(alone) > 1 else "") + alone[-1] if alone else ""
    )
    where = (
        f"below {'each of ' if len(alone) > 1 else ''}{listed} on its own"
        if alone
        else ("below" if figures["floor"] > target else "above") + " the floor"
    )
    sentence = (
        f"B1's floor under syncd's contract (bench/export_floor.py, {label(bench.plan.b1)}): "
        f"{shown} = {figures['floor']:.2f} s of CPU, {figures['floor'] / peer.cpu_s:.2f} x the "
        f"peer's whole run ({peer.cpu_s:.2f} s); the CPU target ({target:.2f} s) is {where}"
    )
    return figures, sentence


def measure(path: Path, repeat: int) -> dict[str, float]:
    """CPU seconds by stage (the keys of `LABELS`), each the best of `repeat` passes."""
    rows = _read(path)
    builder = ContactBuilder(Mapping.model_validate(MAPPING))
    outgoing = Outgoing(FieldBinding("floor-list", {}), Mapping.model_validate(MAPPING))
    figures = {
        "start_up": min(_start_up() for _ in range(repeat)),
        "parse": _best(repeat, lambda: _read(path)),
        "contacts": _best(repeat, lambda: _contacts(rows, builder, outgoing)),
    }
    # In email order, as a first export reads its snapshot and records its batches.
    items = sorted(_contacts(rows, builder, outgoing), key=lambda item: item.email)
    figures["outbox"] = _best(repeat, lambda: _outbox(items))
    figures["floor"] = sum(figures.values())
    figures["peer_read_hash"] = _best(repeat, lambda: _peer(path))
    return figures


def _best(repeat: int, work: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def _start_up() -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([PYTHON, "-c", START_UP], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _read(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        order = [header.index(column) for column in MAPPING.values()]
        return [[row[i] for i in order] for row in reader]


def _contacts(
    rows: list[list[str]], builder: ContactBuilder, outgoing: Outgoing
) -> list[OutboxItem]:
    items = []
    for row in rows:
        keyed = builder.key(list(row))
        assert not isinstance(keyed, str)
        built = builder.build_encoded(keyed[2])
        assert not isinstance(built, str)
        body = outgoing.encode_fields(built.fields)  # as a first export encodes it
        assert not isinstance(body, str)
        items.append(OutboxItem(built.email, built.fingerprint, 7, body, "s", 2, keyed[1]))
    return items


def _outbox(items: list[OutboxItem]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        ledger = open_ledger(str(Path(directory) / "state.db"))
        try:
            with ledger.session("floor") as session:
                for start in range(0, len(items), BATCH):
                    batch = session.prepare(
                        "upsert", "floor-list", items[start : start + BATCH], None
                    )
                    session.submitted(batch.id, f"job-{start}")
                    session.complete(batch, {})
        finally:
            ledger.close()


def _peer(path: Path) -> None:
    for payload in read_segment(str(path)).values():
        hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


if __name__ == "__main__":
    raise SystemExit(main())
