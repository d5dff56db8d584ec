"""The worlds the scenarios refresh (a destination, its ledger, its list) and how one
sync in them is measured against its floors."""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import dataclass
from typing import Any

from bench import ledgers
from bench.common import PROFILES, Result, say
from bench.data import CHANGED_SLOT, COLUMNS, SLOTS, Dataset, fields
from bench.emulator import summarize, timeline
from bench.floor import Floor, measure_apart
from bench.plan import B1_TARGET_S, Bench, label, list_id, world_name
from bench.profiling import breakdown
from bench.syncing import MAPPING, SyncRun, World, run_sync
from syncd.contacts import ContactBuilder
from syncd.destinations import Mapping as FieldMapping
from syncd.sendgrid import MAX_BODY_BYTES, MAX_CONTACTS, upsert_body

# -- measuring --------------------------------------------------------------------------------


def floor_of(bench: Bench, dataset: Dataset) -> Floor:
    """B4 for this file, measured once per bench run (best of 3 up to 1M rows)."""
    if dataset.name not in bench.floors:
        started = time.perf_counter()
        dataset.ensure()
        bench.floors[dataset.name] = measure_apart(
            dataset.path, repeat=3 if dataset.size <= 1_000_000 else 1
        )
        bench.phase("B4 floors", started)
    return bench.floors[dataset.name]


def contact_bytes(dataset: Dataset) -> int:
    """Bytes of every contact as sent (syncd's own encoding), cached next to the file.

    The generated rows have no blank mapped field and no custom field, so what
    `Outgoing.encode` sends has exactly the length of the staged payload."""
    cache = dataset.path.with_suffix(".bytes.json")
    if cache.exists():
        cached: dict[str, int] = json.loads(cache.read_text(encoding="utf-8"))
        if cached.get("mtime_ns") == dataset.path.stat().st_mtime_ns:
            return cached["bytes"]
    builder = ContactBuilder(FieldMapping.model_validate(MAPPING))
    total = 0
    with dataset.path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        positions = [header.index(column) for column in builder.columns]
        for record in reader:
            built = builder.build([record[i] for i in positions])
            if not isinstance(built, str):
                total += len(built.payload)
    cache.write_text(
        json.dumps({"bytes": total, "mtime_ns": dataset.path.stat().st_mtime_ns}),
        encoding="utf-8",
    )
    return total


def changed_bytes(size: int) -> int:
    """Bytes of the B3 file's changed contacts as sent."""
    builder = ContactBuilder(FieldMapping.model_validate(MAPPING))
    total = 0
    for i in range(CHANGED_SLOT, size, SLOTS):
        row = dict(zip(COLUMNS, fields(i, "b3"), strict=True))
        built = builder.build([row[column] for column in builder.columns])
        if not isinstance(built, str):
            total += len(built.payload)
    return total


def request_floor(contacts: int, payload_bytes: int) -> int:
    """max(⌈contacts / 30,000⌉, ⌈bytes / 6 MB⌉): no batching can do with fewer upserts."""
    if not contacts:
        return 0
    overhead = len(upsert_body("00000000-0000-0000-0000-000000000000", []))
    body_bytes = payload_bytes + contacts - 1  # the commas between contacts
    by_bytes = math.ceil(body_bytes / (MAX_BODY_BYTES - overhead))
    return max(math.ceil(contacts / MAX_CONTACTS), by_bytes)


@dataclass
class Measured:
    run: SyncRun
    requests: dict[str, int]
    emulator_cpu_s: float
    profile: dict[str, float] | None
    timeline: dict[str, float]


def measured_sync(bench: Bench, world: World, slug: str) -> Measured:
    emulator = bench.emulator
    assert emulator is not None
    before = len(emulator.requests())
    emulator_cpu = emulator.cpu_seconds()
    profile = PROFILES / f"{slug}.txt" if bench.profile else None
    launched = time.time()
    run = run_sync(world, emulator.url, profile=profile)
    records = emulator.requests()[before:]
    # Kept beside the run's log, to read where its wall time went request by request.
    (world.directory / f"requests-{world.runs}.json").write_text(
        json.dumps([{**r, "since_launch": r["time"] - launched} for r in records], indent=0),
        encoding="utf-8",
    )
    return Measured(
        run=run,
        requests=summarize(records),
        timeline=timeline(records, launched, run.wall_s),
        emulator_cpu_s=emulator.cpu_seconds() - emulator_cpu,
        profile=breakdown(profile) if profile is not None and profile.exists() else None,
    )


def sync_result(
    measured: Measured,
    floor: Floor,
    *,
    scenario: str,
    profiles: int,
    target: str,
    met: bool,
    notes: list[str],
    **extra: Any,
) -> Result:
    """The table row of one measured sync: its figures, and `extra` for latest.json."""
    run, requests = measured.run, measured.requests
    figures: dict[str, Any] = {
        "run_s": run.duration_s,
        "cpu_s": round(run.cpu_s, 2),
        "user_s": round(run.user_s, 2),
        "sys_s": round(run.sys_s, 2),
        "emulator_cpu_s": round(measured.emulator_cpu_s, 2),
        "exit_code": run.exit_code,
        "report": run.report,
        "requests_by_kind": measured.requests,
        "timeline_s": measured.timeline,
        "log": str(run.log),
    }
    if measured.profile is not None:
        figures["profile_s"] = {k: round(v, 2) for k, v in measured.profile.items()}
    return Result(
        scenario=scenario,
        profiles=profiles,
        wall_s=run.wall_s,
        floor_s=floor.seconds,
        peak_rss_mb=run.peak_rss_mb,
        requests=requests["requests"],
        writes=requests["writes"],
        sent=requests["sent"],
        target=target,
        met=met,
        note="; ".join(notes),
        extra={**figures, **extra},
    )


def failure(run: SyncRun) -> str:
    if run.exit_code == 0 and run.report.get("outcome") == "success":
        return ""
    return f"run failed (exit {run.exit_code}, {run.report.get('error') or 'see ' + str(run.log)})"


# -- worlds -----------------------------------------------------------------------------------


def export(bench: Bench, world: World, dataset: Dataset, scenario: str, *, b1: bool) -> Result:
    """An initial export: the ledger is empty, every profile goes to SendGrid."""
    started = time.perf_counter()
    floor = floor_of(bench, dataset)
    needed = request_floor(dataset.profiles, contact_bytes(dataset))
    say(f"{scenario}: {dataset.profiles:,} profiles into an empty list…")
    measured = measured_sync(bench, world, f"{world.name}-export")
    run, requests = measured.run, measured.requests
    assert bench.emulator is not None
    listed = bench.emulator.list_count(world.list_id)
    problems = [p for p in (failure(run),) if p]
    if listed != dataset.profiles:
        problems.append(f"the list holds {listed:,} contacts, not {dataset.profiles:,}")
    if requests["sent"] != dataset.profiles:
        problems.append(f"{requests['sent']:,} contacts sent")
    at_floor = requests["upserts"] == needed
    if b1:
        target = f"≤ {B1_TARGET_S:.0f} s, {needed} PUTs"
        met = not problems and run.wall_s <= B1_TARGET_S and at_floor
    else:
        target, met = "list complete", not problems
    note = (
        f"{requests['upserts']} PUTs for a floor of {needed}; list complete: {listed:,}; "
        f"syncd CPU {run.cpu_s:.1f}s, emulator CPU {measured.emulator_cpu_s:.1f}s"
    )
    bench.phase(scenario, started)
    return bench.add(
        sync_result(
            measured,
            floor,
            scenario=scenario,
            profiles=dataset.profiles,
            target=target,
            met=met,
            notes=[*problems, note],
            upsert_floor=needed,
            list_count=listed,
        )
    )


def sqlite_world(bench: Bench, size: int) -> World:
    """The SQLite world of this size, its initial export done (B1 for the B1 size)."""
    name = world_name("sqlite", size)
    if name not in bench.worlds:
        world = World(name, list_id(name)).create()
        dataset = Dataset(size)
        world.point_at(dataset.ensure())
        is_b1 = size == bench.plan.b1 and bench.wants("B1")
        scenario = "B1 initial export" if is_b1 else f"export {label(size)} (setup)"
        export(bench, world, dataset, scenario, b1=is_b1)
        bench.worlds[name] = world
    return bench.worlds[name]


def postgres_world(bench: Bench, size: int) -> World | None:
    """The PostgreSQL world of this size, its ledger pre-seeded; None without a server."""
    name = world_name("pg", size)
    if bench.postgres_problem:
        return None
    if name not in bench.worlds:
        started = time.perf_counter()
        schema = f"syncd_bench_{name.removeprefix('pg-')}"
        ledgers.reset_schema(schema)
        world = World(name, list_id(name), state=ledgers.schema_url(schema)).create()
        dataset = Dataset(size)
        world.point_at(dataset.ensure())
        say(f"pre-seeding the PostgreSQL ledger with {size:,} acknowledged contacts…")
        seeded = ledgers.preseed(world, schema)
        say(f"  pre-seeded {seeded.contacts:,} contacts in {seeded.seconds:.1f}s")
        bench.worlds[name] = world
        bench.phase(f"pre-seed {label(size)} (PostgreSQL)", started)
    return bench.worlds[name]


def drop_postgres_worlds(bench: Bench) -> None:
    for name in list(bench.worlds):
        if name.startswith("pg-"):
            ledgers.drop_schema(f"syncd_bench_{name.removeprefix('pg-')}")
            del bench.worlds[name]
