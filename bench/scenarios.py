"""B1-B4 and the scaling series, against one emulator process, each sync its own process.

The worlds (a destination file, its ledger, its list in the emulator) are built in
order and reused: the B1 export fills the 100k ledger its refreshes then read, the 1M
export fills the ledger that B2, B2+1 (one profile changed) and then B3 refresh. The
PostgreSQL ledgers are pre-seeded (see bench/ledgers.py).
"""

from __future__ import annotations

import itertools
import math
import time
import traceback
from collections.abc import Callable
from functools import partial

from bench.auditing import audit_row
from bench.common import WORK, Result, say
from bench.data import CHANGED_SLOT, SLOTS, Dataset, fields
from bench.emulator import EmulatorProcess
from bench.peers import run_peer
from bench.plan import (
    B2_TARGET_RATIO,
    B2_TARGET_RSS_MB,
    FLAT_TOLERANCE,
    LINEAR_TOLERANCE,
    SELECTABLE,
    Bench,
    Plan,
    label,
    list_id,
    world_name,
)
from bench.plan_cost import measure_plan, plan_result
from bench.syncing import World
from bench.worlds import (
    changed_bytes,
    drop_postgres_worlds,
    failure,
    floor_of,
    measured_sync,
    postgres_world,
    request_floor,
    sqlite_world,
    sync_result,
)
from syncd.sendgrid import REMOVE_LIMIT, SEARCH_LIMIT

__all__ = ["SELECTABLE", "Bench", "Plan", "attempt", "run_all"]

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
    problems = [p for p in (failure(run),) if p]
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
    if headline:
        run_peer(bench, f"{size} no change", dataset.path, dataset.profiles)
    note = (
        f"{per_profile:.1f} µs/profile{f' ({path})' if path else ''}; syncd CPU {run.cpu_s:.1f}s "
        f"(the rest: {'PostgreSQL' if backend != 'SQLite' else 'I/O'} and waits)"
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
            backend=backend,
            us_per_profile=per_profile,
            ok=not problems,
        )
    )


def one_change(bench: Bench, world: World, size: int, backend: str) -> Result:
    """One profile changed: the verify read's sums differ, so the segment is staged (only
    the buckets that differ, when it can be) and diffed in the ledger; exactly one contact
    is sent. The ledger's cost at scale."""
    started = time.perf_counter()
    variant = Dataset(size, "one")
    world.point_at(variant.ensure())
    floor = floor_of(bench, Dataset(size))  # the same size and shape as the base file
    scenario = f"B2+1 one changed {label(size)} ({backend})"
    say(f"{scenario}: verified, what differs staged…")
    measured = measured_sync(bench, world, f"{world.name}-one")
    run, requests = measured.run, measured.requests
    problems = [p for p in (failure(run),) if p]
    if requests["sent"] != 1 or requests["upserts"] != 1:
        problems.append(f"{requests['sent']} contacts in {requests['upserts']} upserts, not 1")
    if requests["writes"] != 1 or run.count("removed"):
        problems.append(f"{requests['writes']} writes, {run.count('removed')} removed")
    if run.report.get("verified"):
        problems.append("verified without staging")
    if size == bench.plan.headline and backend == "SQLite":
        run_peer(bench, f"{label(size)} one changed", variant.path, size)
    per_profile = 1e6 * run.wall_s / variant.profiles
    note = (
        f"{per_profile:.1f} µs/profile; syncd CPU {run.cpu_s:.1f}s "
        f"(user {run.user_s:.1f}, system {run.sys_s:.1f})"
    )
    bench.phase(scenario, started)
    return bench.add(
        sync_result(
            measured,
            floor,
            scenario=scenario,
            profiles=variant.profiles,
            target="send 1, staged",
            met=not problems,
            notes=[*problems, note],
            backend=backend,
            us_per_profile=per_profile,
            ok=not problems,
        )
    )


def b3(bench: Bench) -> Result:
    """1 % of the profiles changed, 1 % gone: exactly those are sent and removed."""
    size = bench.plan.b3
    world = exported(bench, size)
    started = time.perf_counter()
    variant = Dataset(size, "b3")
    world.point_at(variant.ensure())
    floor = floor_of(bench, variant)
    scenario = f"B3 1% changed, 1% gone ({label(size)})"
    say(f"P1: the plan of the B3 change, {label(size)}…")
    planned = measure_plan(world, bench.url)
    say(f"{scenario}…")
    measured = measured_sync(bench, world, f"{world.name}-b3")
    bench.add(plan_result(*planned, measured.run, variant))
    run, requests = measured.run, measured.requests
    assert bench.emulator is not None
    changed, gone = variant.changed, variant.gone
    base = Dataset(size)
    upsert_floor = request_floor(changed, changed_bytes(size))
    # A removal is looked up (its contact id), sent, then confirmed by a second search: no
    # 202 is trusted alone (docs/guarantees.md, removals confirmed by search).
    removal_floor = 2 * math.ceil(gone / SEARCH_LIMIT) + math.ceil(gone / REMOVE_LIMIT)
    listed = bench.emulator.list_count(world.list_id)
    run_peer(bench, f"{label(size)} 1% changed", variant.path, size)
    problems = [p for p in (failure(run),) if p]
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
        f"{requests['removals']} removals (floor {removal_floor}: found, removed, confirmed, "
        f"100 a request), "
        f"{requests['polls']} job polls; list now {listed:,}; seconds from the launch: "
        + ", ".join(f"{mark} {at}" for mark, at in measured.timeline.items())
    )
    bench.phase(scenario, started)
    return bench.add(
        sync_result(
            measured,
            floor,
            scenario=scenario,
            profiles=variant.profiles,
            target=f"send {changed:,}, remove {gone:,}, min requests",
            met=not problems and at_minimum,
            notes=[*problems, note],
            changed=changed,
            gone=gone,
            upsert_floor=upsert_floor,
            removal_floor=removal_floor,
            list_count=listed,
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
    needs_emulator = bench.only & {"B1", "B2", "B3", "SCALING", "AUDIT"}
    if needs_emulator:
        names = plan.worlds()
        with EmulatorProcess({list_id(n): n for n in names}, WORK / "emulator") as emulator:
            bench.emulator = emulator
            try:
                _syncs(bench)
                if bench.wants("AUDIT"):
                    attempt(bench, "A1 audit", partial(audit_row, bench))
            finally:
                drop_postgres_worlds(bench)
                bench.emulator = None
    if bench.wants("SCALING"):
        scaling_verdicts(bench)
    if daemon is not None and bench.wants("DAEMON"):
        daemon(bench)


def exported(bench: Bench, size: int) -> World:
    """The SQLite world of this size (its initial export done); the peer exports the same
    file into its own list right after syncd's export."""
    fresh = world_name("sqlite", size) not in bench.worlds
    world = sqlite_world(bench, size)
    if fresh:
        run_peer(bench, f"export {label(size)}", Dataset(size).path, size)
    return world


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
        attempt(bench, "B1 initial export", lambda: exported(bench, plan.b1))
    sqlite_refreshes = list(plan.sqlite_sizes) if bench.wants("SCALING") else []
    if bench.wants("B2") and plan.headline not in sqlite_refreshes:
        sqlite_refreshes.append(plan.headline)
    if bench.wants("B1") and bench.wants("SCALING") and plan.b1 in sqlite_refreshes:
        sqlite_refreshes.remove(plan.b1)  # refresh the B1 world right after its export
        sqlite_refreshes.insert(0, plan.b1)
    for size in sqlite_refreshes:
        attempt(bench, f"B2 refresh {label(size)} (SQLite)", partial(_sqlite, bench, size))
        # B2+1 at the headline size has a target beside the peer: measured with B2 too.
        if bench.wants("SCALING") or (size == plan.headline and bench.wants("B2")):
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
    refresh(bench, exported(bench, size), Dataset(size), "SQLite")


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
