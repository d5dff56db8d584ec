"""B1-B4 and the scaling series, against one emulator process, each sync its own process.

The worlds (a destination file, its ledger, its list in the emulator) are built in
order and reused: the B1 export fills the 100k ledger its refreshes then read, the 1M
export fills the ledger that B2, B2+1 (one profile changed) and then B3 refresh. The
PostgreSQL ledgers are pre-seeded (see bench/ledgers.py).
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from bench import ledgers
from bench.b4_floor import Floor, measure_apart
from bench.common import PROFILES, WORK, Result, say
from bench.data import CHANGED_SLOT, COLUMNS, SLOTS, Dataset, fields
from bench.emulator import EmulatorProcess, summarize
from bench.profiling import breakdown
from bench.syncing import MAPPING, SyncRun, World, run_sync
from syncd.contacts import ContactBuilder
from syncd.destinations import Mapping as FieldMapping
from syncd.sendgrid import MAX_BODY_BYTES, MAX_CONTACTS, REMOVE_LIMIT, SEARCH_LIMIT, upsert_body

B1_TARGET_S = 30.0
B2_TARGET_RATIO = 3.0
B2_TARGET_RSS_MB = 250.0
LINEAR_TOLERANCE = 1.25  # cost per profile may grow this much from one size to the next
FLAT_TOLERANCE = 1.15  # peak RSS may grow this much from the smallest size to the largest
SELECTABLE = ("B1", "B2", "B3", "B4", "SCALING", "DAEMON")
_LIST_NAMESPACE = uuid.UUID("5b7c0e9a-3f1d-4c2b-9a8e-6d5f4c3b2a10")


def label(size: int) -> str:
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size >= 1000 and size % 1000 == 0:
        return f"{size // 1000}k"
    return str(size)


def world_name(backend: str, size: int) -> str:
    """The destination's metadata.name: lower-case, as syncd requires."""
    return f"{backend}-{label(size).lower()}"


def list_id(name: str) -> str:
    return str(uuid.uuid5(_LIST_NAMESPACE, name))


@dataclass(frozen=True)
class Plan:
    """Sizes: the full run, or `--quick` (a smoke test of the harness, no targets)."""

    b1: int
    sqlite_sizes: tuple[int, ...]
    postgres_sizes: tuple[int, ...]
    b3: int
    headline: int  # the B2 size the targets are stated for

    @staticmethod
    def make(*, quick: bool, skip_10m: bool) -> Plan:
        if quick:
            return Plan(10_000, (10_000, 100_000), (100_000,), 100_000, 100_000)
        postgres = (1_000_000,) if skip_10m else (1_000_000, 10_000_000)
        return Plan(100_000, (10_000, 100_000, 1_000_000), postgres, 1_000_000, 1_000_000)

    def worlds(self) -> list[str]:
        return [world_name("sqlite", n) for n in self.sqlite_sizes] + [
            world_name("pg", n) for n in self.postgres_sizes
        ]


@dataclass
class Bench:
    plan: Plan
    only: frozenset[str]
    profile: bool = False
    quick: bool = False
    results: list[Result] = field(default_factory=list)
    floors: dict[str, Floor] = field(default_factory=dict)
    worlds: dict[str, World] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    emulator: EmulatorProcess | None = None
    postgres_problem: str | None = None

    def wants(self, key: str) -> bool:
        return key in self.only

    def add(self, result: Result) -> Result:
        self.results.append(result)
        verdict = {True: "met", False: "MISSED", None: ""}[result.met]
        wall = f"{result.wall_s:.2f}s" if result.wall_s is not None else ""
        say(f"  {result.scenario}: {wall} {verdict} {result.note}".rstrip())
        return result

    def phase(self, name: str, started: float) -> None:
        self.phases[name] = round(self.phases.get(name, 0.0) + time.perf_counter() - started, 2)

    @property
    def url(self) -> str:
        assert self.emulator is not None
        return self.emulator.url


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


def measured_sync(bench: Bench, world: World, slug: str) -> Measured:
    emulator = bench.emulator
    assert emulator is not None
    before = len(emulator.requests())
    emulator_cpu = emulator.cpu_seconds()
    profile = PROFILES / f"{slug}.txt" if bench.profile else None
    run = run_sync(world, emulator.url, profile=profile)
    records = emulator.requests()[before:]
    return Measured(
        run=run,
        requests=summarize(records),
        emulator_cpu_s=emulator.cpu_seconds() - emulator_cpu,
        profile=breakdown(profile) if profile is not None and profile.exists() else None,
    )


def _base_extra(measured: Measured) -> dict[str, Any]:
    run = measured.run
    extra: dict[str, Any] = {
        "run_s": run.duration_s,
        "cpu_s": round(run.cpu_s, 2),
        "user_s": round(run.user_s, 2),
        "sys_s": round(run.sys_s, 2),
        "emulator_cpu_s": round(measured.emulator_cpu_s, 2),
        "exit_code": run.exit_code,
        "report": run.report,
        "requests_by_kind": measured.requests,
        "log": str(run.log),
    }
    if measured.profile is not None:
        extra["profile_s"] = {k: round(v, 2) for k, v in measured.profile.items()}
    return extra


def _failure(run: SyncRun) -> str:
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
    problems = [p for p in (_failure(run),) if p]
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
    extra = {**_base_extra(measured), "upsert_floor": needed, "list_count": listed}
    bench.phase(scenario, started)
    return bench.add(
        Result(
            scenario=scenario,
            profiles=dataset.profiles,
            wall_s=run.wall_s,
            floor_s=floor.seconds,
            peak_rss_mb=run.peak_rss_mb,
            requests=requests["requests"],
            writes=requests["writes"],
            sent=requests["sent"],
            target=target,
            met=met,
            note="; ".join([*problems, note]),
            extra=extra,
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


# -- the scenarios ----------------------------------------------------------------------------


READ_PATHS = {
    "known": "known in sync: nothing parsed",
    "verified": "verified, nothing staged",
    "staged": "staged",
}


def refresh(bench: Bench, world: World, dataset: Dataset, backend: str) -> Result:
    """B2: the segment did not change; nothing may be written."""
    started = time.perf_counter()
    floor = floor_of(bench, dataset)
    size = label(dataset.profiles)
    scenario = f"B2 refresh {size} ({backend})"
    say(f"{scenario}: no change…")
    measured = measured_sync(bench, world, f"{world.name}-refresh")
    run, requests = measured.run, measured.requests
    problems = [p for p in (_failure(run),) if p]
    if requests["writes"]:
        problems.append(f"{requests['writes']} write requests")
    if run.count("unchanged") != dataset.profiles:
        problems.append(f"{run.count('unchanged'):,} unchanged, not {dataset.profiles:,}")
    headline = dataset.profiles == bench.plan.headline and backend == "SQLite"
    ratio = run.wall_s / floor.seconds if floor.seconds else math.inf
    if headline:
        target = f"≤ {B2_TARGET_RATIO:.0f}x floor, ≤ {B2_TARGET_RSS_MB:.0f} MB, 0 writes"
        met = not problems and ratio <= B2_TARGET_RATIO and run.peak_rss_mb <= B2_TARGET_RSS_MB
    else:
        target, met = "0 writes", not problems
    per_profile = 1e6 * run.wall_s / dataset.profiles
    path = READ_PATHS.get(str(run.report.get("read")), "")
    note = (
        f"{per_profile:.1f} µs/profile{f' ({path})' if path else ''}; syncd CPU {run.cpu_s:.1f}s "
        f"(the rest: {'PostgreSQL' if backend != 'SQLite' else 'I/O'} and waits)"
    )
    bench.phase(scenario, started)
    return bench.add(
        Result(
            scenario=scenario,
            profiles=dataset.profiles,
            wall_s=run.wall_s,
            floor_s=floor.seconds,
            peak_rss_mb=run.peak_rss_mb,
            requests=requests["requests"],
            writes=requests["writes"],
            sent=requests["sent"],
            target=target,
            met=met,
            note="; ".join([*problems, note]),
            extra={
                **_base_extra(measured),
                "backend": backend,
                "us_per_profile": per_profile,
                "ok": not problems,
            },
        )
    )


def one_change(bench: Bench, world: World, size: int, backend: str) -> Result:
    """One profile changed: the verify path fails, so the whole segment is staged in the
    ledger and diffed there; exactly one contact is sent. The ledger's cost at scale."""
    started = time.perf_counter()
    variant = Dataset(size, "one")
    world.point_at(variant.ensure())
    floor = floor_of(bench, Dataset(size))  # the same size and shape as the base file
    scenario = f"B2+1 one changed {label(size)} ({backend})"
    say(f"{scenario}: the whole segment staged…")
    measured = measured_sync(bench, world, f"{world.name}-one")
    run, requests = measured.run, measured.requests
    problems = [p for p in (_failure(run),) if p]
    if requests["sent"] != 1 or requests["upserts"] != 1:
        problems.append(f"{requests['sent']} contacts in {requests['upserts']} upserts, not 1")
    if requests["writes"] != 1 or run.count("removed"):
        problems.append(f"{requests['writes']} writes, {run.count('removed')} removed")
    if run.report.get("verified"):
        problems.append("verified without staging")
    per_profile = 1e6 * run.wall_s / variant.profiles
    note = (
        f"{per_profile:.1f} µs/profile; syncd CPU {run.cpu_s:.1f}s "
        f"(user {run.user_s:.1f}, system {run.sys_s:.1f})"
    )
    bench.phase(scenario, started)
    return bench.add(
        Result(
            scenario=scenario,
            profiles=variant.profiles,
            wall_s=run.wall_s,
            floor_s=floor.seconds,
            peak_rss_mb=run.peak_rss_mb,
            requests=requests["requests"],
            writes=requests["writes"],
            sent=requests["sent"],
            target="send 1, staged",
            met=not problems,
            note="; ".join([*problems, note]),
            extra={
                **_base_extra(measured),
                "backend": backend,
                "us_per_profile": per_profile,
                "ok": not problems,
            },
        )
    )


def b3(bench: Bench) -> Result:
    """1 % of the profiles changed, 1 % gone: exactly those are sent and removed."""
    size = bench.plan.b3
    world = sqlite_world(bench, size)
    started = time.perf_counter()
    variant = Dataset(size, "b3")
    world.point_at(variant.ensure())
    floor = floor_of(bench, variant)
    scenario = f"B3 1% changed, 1% gone ({label(size)})"
    say(f"{scenario}…")
    measured = measured_sync(bench, world, f"{world.name}-b3")
    run, requests = measured.run, measured.requests
    assert bench.emulator is not None
    changed, gone = variant.changed, variant.gone
    base = Dataset(size)
    upsert_floor = request_floor(changed, changed_bytes(size))
    removal_floor = math.ceil(gone / SEARCH_LIMIT) + math.ceil(gone / REMOVE_LIMIT)
    listed = bench.emulator.list_count(world.list_id)
    problems = [p for p in (_failure(run),) if p]
    if requests["sent"] != changed or run.count("upserted") != changed:
        problems.append(f"{requests['sent']:,} contacts sent, {changed:,} changed")
    if run.count("removed") != gone or requests["removed_ids"] != gone:
        problems.append(f"{run.count('removed'):,} removed, {gone:,} gone")
    if listed != base.profiles - gone:
        problems.append(f"the list holds {listed:,}, not {base.profiles - gone:,}")
    problems += _check_changed_values(bench, size)
    at_minimum = (
        requests["upserts"] == upsert_floor
        and requests["searches"] + requests["removals"] == removal_floor
    )
    note = (
        f"{requests['upserts']} PUT (floor {upsert_floor}), {requests['searches']} searches + "
        f"{requests['removals']} removals (floor {removal_floor} at 100 a request), "
        f"{requests['polls']} job polls; list now {listed:,}"
    )
    bench.phase(scenario, started)
    return bench.add(
        Result(
            scenario=scenario,
            profiles=variant.profiles,
            wall_s=run.wall_s,
            floor_s=floor.seconds,
            peak_rss_mb=run.peak_rss_mb,
            requests=requests["requests"],
            writes=requests["writes"],
            sent=requests["sent"],
            target=f"send {changed:,}, remove {gone:,}, min requests",
            met=not problems and at_minimum,
            note="; ".join([*problems, note]),
            extra={
                **_base_extra(measured),
                "changed": changed,
                "gone": gone,
                "upsert_floor": upsert_floor,
                "removal_floor": removal_floor,
                "list_count": listed,
            },
        )
    )


def _check_changed_values(bench: Bench, size: int) -> list[str]:
    """A sample of changed contacts carries the new first name in SendGrid."""
    assert bench.emulator is not None
    sample = list(range(CHANGED_SLOT, size, SLOTS))[:: max(1, size // SLOTS // 50)][:50]
    expected = {fields(i, "b3")[0].lower(): fields(i, "b3")[1] for i in sample}
    found = bench.emulator.search(list(expected))
    wrong = [
        email
        for email, first in expected.items()
        if (found.get(email) or {}).get("contact", {}).get("first_name") != first
    ]
    return [f"{len(wrong)} of {len(expected)} sampled changed contacts are stale"] if wrong else []


def scaling_verdicts(bench: Bench) -> None:
    """Cost linear in the profiles, memory flat, per backend."""
    for (prefix, series), backend in itertools.product(
        (("B2 refresh", "B2"), ("B2+1", "B2+1 (staged)")), ("SQLite", "PostgreSQL")
    ):
        measured = [
            r
            for r in bench.results
            if r.scenario.startswith(prefix)
            and r.scenario.endswith(f"({backend})")
            and not r.note.startswith("skipped")
        ]
        rows = sorted((r for r in measured if r.extra.get("ok")), key=lambda r: r.profiles)
        if len(rows) < len(measured):
            bench.add(
                Result(
                    scenario=f"scaling {series} {backend}",
                    profiles=0,
                    target="linear cost, flat RSS",
                    met=False,
                    note=f"incomplete: {len(measured) - len(rows)} of the refreshes failed",
                )
            )
            continue
        if len(rows) < 2:
            continue
        # Start-up (~0.7 s) dominates below 100k profiles: judge the steps from 100k on.
        judged = [r for r in rows if r.profiles >= 100_000]
        if len(judged) < 2:
            judged = rows[-2:]
        steps = []
        linear = True
        for small, large in itertools.pairwise(judged):
            growth = (large.wall_s or 0) / large.profiles / ((small.wall_s or 1) / small.profiles)
            linear = linear and growth <= LINEAR_TOLERANCE
            steps.append(f"{label(small.profiles)}→{label(large.profiles)} x{growth:.2f}")
        rss = [r.peak_rss_mb or 0.0 for r in rows]
        flat = max(rss) <= FLAT_TOLERANCE * min(rss)
        sizes = f"{label(rows[0].profiles)}-{label(rows[-1].profiles)}"
        per_profile = [f"{1e6 * (r.wall_s or 0) / r.profiles:.1f}" for r in rows]
        bench.add(
            Result(
                scenario=f"scaling {series} {backend} {sizes}",
                profiles=rows[-1].profiles,
                peak_rss_mb=max(rss),
                target="linear cost, flat RSS",
                met=linear and flat,
                note=(
                    f"µs/profile {' / '.join(per_profile)} "
                    f"(cost per profile {'; '.join(steps)}); "
                    f"peak RSS {' / '.join(f'{x:.0f}' for x in rss)} MB"
                ),
                extra={"linear": linear, "flat": flat, "steps": steps, "rss": rss},
            )
        )


def run_all(bench: Bench, daemon: Callable[[Bench], None] | None) -> None:
    plan = bench.plan
    if bench.wants("B4"):
        say("B4: the floor (csv.reader alone)…")
        sizes = {plan.b1, plan.b3, *plan.sqlite_sizes, *plan.postgres_sizes}
        datasets = [Dataset(n) for n in sorted(sizes)] + [Dataset(plan.b3, "b3")]
        for dataset in datasets:
            started = time.perf_counter()
            dataset.ensure()
            bench.phase("data generation", started)
            floor = floor_of(bench, dataset)
            bench.add(
                Result(
                    scenario=f"B4 floor {label(dataset.size)}"
                    + (" (B3 file)" if dataset.variant == "b3" else ""),
                    profiles=floor.rows,
                    wall_s=floor.seconds,
                    note=f"{floor.rows / floor.seconds:,.0f} rows/s, best of "
                    f"{3 if dataset.size <= 1_000_000 else 1}",
                )
            )
    needs_emulator = bench.only & {"B1", "B2", "B3", "SCALING"}
    if needs_emulator:
        names = plan.worlds()
        with EmulatorProcess({list_id(n): n for n in names}, WORK / "emulator") as emulator:
            bench.emulator = emulator
            try:
                _syncs(bench)
            finally:
                drop_postgres_worlds(bench)
                bench.emulator = None
    if bench.wants("SCALING"):
        scaling_verdicts(bench)
    if daemon is not None and bench.wants("DAEMON"):
        daemon(bench)


def attempt(bench: Bench, scenario: str, step: Callable[[], object]) -> None:
    """Run one step; a crash becomes a failed row instead of ending the benchmark."""
    try:
        step()
    except Exception as error:
        say(traceback.format_exc())
        bench.add(Result(scenario=scenario, profiles=0, met=False, note=f"crashed: {error!r}"))


def _syncs(bench: Bench) -> None:
    plan = bench.plan
    if bench.wants("B1"):
        attempt(bench, "B1 initial export", lambda: sqlite_world(bench, plan.b1))
    sqlite_refreshes = list(plan.sqlite_sizes) if bench.wants("SCALING") else []
    if bench.wants("B2") and plan.headline not in sqlite_refreshes:
        sqlite_refreshes.append(plan.headline)
    if bench.wants("B1") and bench.wants("SCALING") and plan.b1 in sqlite_refreshes:
        sqlite_refreshes.remove(plan.b1)  # refresh the B1 world right after its export
        sqlite_refreshes.insert(0, plan.b1)
    for size in sqlite_refreshes:
        attempt(bench, f"B2 refresh {label(size)} (SQLite)", partial(_sqlite, bench, size))
        if bench.wants("SCALING"):
            attempt(
                bench,
                f"B2+1 one changed {label(size)} (SQLite)",
                partial(_one, bench, size, "sqlite", "SQLite"),
            )
        if size == plan.b3 and bench.wants("B3"):
            attempt(bench, "B3", lambda: b3(bench))
    if bench.wants("B3") and plan.b3 not in sqlite_refreshes:
        attempt(bench, "B3", lambda: b3(bench))
    if bench.wants("SCALING"):
        for size in plan.postgres_sizes:
            attempt(bench, f"B2 refresh {label(size)} (PostgreSQL)", partial(_pg, bench, size))


def _sqlite(bench: Bench, size: int) -> None:
    refresh(bench, sqlite_world(bench, size), Dataset(size), "SQLite")


def _one(bench: Bench, size: int, kind: str, backend: str) -> None:
    world = bench.worlds.get(world_name(kind, size))
    if world is not None:
        one_change(bench, world, size, backend)


def _pg(bench: Bench, size: int) -> None:
    try:
        world = postgres_world(bench, size)
        if world is None:
            bench.add(
                Result(
                    scenario=f"B2 refresh {label(size)} (PostgreSQL)",
                    profiles=size,
                    note=f"skipped: {bench.postgres_problem}",
                )
            )
            return
        refresh(bench, world, Dataset(size), "PostgreSQL")
        one_change(bench, world, size, "PostgreSQL")
    finally:
        drop_postgres_worlds(bench)  # free the server's disk before the next size
