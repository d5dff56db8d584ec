"""syncd beside the peer (bench/peer.py, the diff script a careful team would write).

The peer runs in the same benchmark, against the same emulator, on the same files, right
after syncd's own run of each path: its own list and its own state file, measured by the
same launcher (wall, user + system CPU of its process, peak RSS). Targets are ratios to
the peer's figures, so a loaded machine inflates both sides alike. The paths without a
peer figure (the staged refreshes) are judged against the B4 floor of the same run.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.common import API_KEY, PYTHON, WORK, Result, say
from bench.plan import Bench, label, list_id, world_name
from bench.syncing import launch

PEER = Path(__file__).with_name("peer.py")

# The targets: syncd ÷ peer for the first exports, syncd ÷ floor for the staged paths.
EXPORT_WALL_RATIO = 0.8
EXPORT_CPU_RATIO = 0.5
EXPORT_RSS_MB = {100_000: 120.0, 1_000_000: 150.0}
STAGED_FLOOR_RATIO = 3.0
STAGED_10M_FLOOR_RATIO = 4.0


@dataclass
class PeerRun:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    exit_code: int
    sent: int
    emulator_cpu_s: float = 0.0
    """The emulator's CPU while answering the peer: it serves requests on one thread, so
    no client's wall time on this path can be shorter (`emulator_bound`)."""


def peer_world(size: int) -> str:
    return world_name("peer", size)


def run_peer(bench: Bench, key: str, csv_path: Path, size: int) -> PeerRun | None:
    """The peer on `csv_path`, into its list for this size; kept in `bench.peer_runs[key]`."""
    if bench.emulator is None or size not in bench.plan.peer_sizes:
        return None
    name = peer_world(size)
    directory = WORK / name
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / f"{key.replace(' ', '-')}.log"
    command = [
        *(PYTHON, str(PEER), "--csv", str(csv_path), "--state", str(directory / "peer.db")),
        *("--base-url", bench.emulator.url, "--list-id", list_id(name)),
    ]
    emulator_cpu = bench.emulator.cpu_seconds()
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as output:
        exit_code, (maxrss_kb, user_s, sys_s) = launch(
            command, env={**os.environ, "SENDGRID_API_KEY": API_KEY}, output=output
        )
    wall = time.perf_counter() - started
    emulator_cpu = bench.emulator.cpu_seconds() - emulator_cpu
    sent = 0
    for line in log.read_text(encoding="utf-8").splitlines():
        if line.startswith("{"):
            sent = int(json.loads(line).get("sent", 0))
    run = PeerRun(wall, user_s + sys_s, maxrss_kb / 1024, exit_code, sent, emulator_cpu)
    bench.peer_runs[key] = run
    say(
        f"  peer, {key}: {wall:.2f}s, CPU {run.cpu_s:.2f}s, {run.peak_rss_mb:.0f} MB, "
        f"sent {sent:,}, emulator CPU {emulator_cpu:.2f}s"
        + (f", exit {exit_code} (see {log})" if exit_code else "")
    )
    return run


@dataclass
class SideBySide:
    """One row of the side-by-side table."""

    path: str
    profiles: int
    syncd_wall: float | None
    syncd_cpu: float | None
    syncd_rss: float | None
    peer: PeerRun | None
    floor_s: float | None
    target: str
    met: bool | None

    @property
    def wall_ratio(self) -> float | None:
        return _ratio(self.syncd_wall, self.peer.wall_s if self.peer else None)

    @property
    def cpu_ratio(self) -> float | None:
        return _ratio(self.syncd_cpu, self.peer.cpu_s if self.peer else None)

    @property
    def floor_ratio(self) -> float | None:
        return _ratio(self.syncd_wall, self.floor_s)


def emulator_bound(bench: Bench) -> list[str]:
    """For each first export measured beside the peer: the emulator's CPU answering each
    client, beside the wall-time target. The emulator answers on one thread, so a client's
    wall time cannot be shorter than the emulator's CPU while answering it: a target below
    that is out of reach for any client on this emulator, however fast the client is."""
    lines = []
    for size in (bench.plan.b1, bench.plan.b3):
        peer = bench.peer_runs.get(f"export {label(size)}")
        result = _export(bench, size)
        if peer is None or result is None or not peer.emulator_cpu_s:
            continue
        target = EXPORT_WALL_RATIO * peer.wall_s
        served = result.extra.get("emulator_cpu_s")
        lines.append(
            f"First export {label(size)}: the emulator spent {peer.emulator_cpu_s:.2f} s of CPU "
            f"on one thread answering the peer"
            + (f" ({served:.2f} s answering syncd)" if served is not None else "")
            + f"; the wall target ({EXPORT_WALL_RATIO} x the peer's {peer.wall_s:.2f} s = "
            f"{target:.2f} s) is "
            + ("below" if target < peer.emulator_cpu_s else "above")
            + " what the emulator alone needs"
        )
    return lines


def _ratio(value: float | None, base: float | None) -> float | None:
    return None if value is None or not base else value / base


def _find(bench: Bench, scenario: str) -> Result | None:
    return next((r for r in bench.results if r.scenario == scenario and r.wall_s), None)


def _export(bench: Bench, size: int) -> Result | None:
    """syncd's first export of `size` in this run: B1's, or a plain export filling the
    world (without B1 in the run, the 100k world is filled that way too)."""
    b1 = _find(bench, "B1 initial export") if size == bench.plan.b1 else None
    return b1 or _find(bench, f"export {label(size)} (setup)")


def _syncd(result: Result | None) -> tuple[float | None, float | None, float | None]:
    if result is None:
        return None, None, None
    return result.wall_s, result.extra.get("cpu_s"), result.peak_rss_mb


def comparisons(bench: Bench) -> list[SideBySide]:
    """The issue's paths, each with its target, from what this run measured."""
    plan = bench.plan
    rows: list[SideBySide] = []
    for size, path in ((plan.b1, f"B1 first export {label(plan.b1)}"),
                       (plan.b3, f"first export {label(plan.b3)}")):  # fmt: skip
        result = _export(bench, size)
        peer = bench.peer_runs.get(f"export {label(size)}")
        if result is None and peer is None:
            continue
        wall, cpu, rss = _syncd(result)
        rss_cap = EXPORT_RSS_MB.get(size, max(EXPORT_RSS_MB.values()))
        row = SideBySide(
            path, size, wall, cpu, rss, peer, result.floor_s if result else None,
            f"≤ {EXPORT_WALL_RATIO}x peer wall, ≤ {EXPORT_CPU_RATIO}x peer CPU, "
            f"≤ {rss_cap:.0f} MB",
            None,
        )  # fmt: skip
        if result is not None and peer is not None and not bench.quick:
            row.met = bool(
                result.met is not False
                and (row.wall_ratio or math.inf) <= EXPORT_WALL_RATIO
                and (row.cpu_ratio or math.inf) <= EXPORT_CPU_RATIO
                and (rss or math.inf) <= rss_cap
            )
        rows.append(row)
    size = plan.headline
    staged = (
        (f"B2 refresh {label(size)} (SQLite)", f"{label(size)} no change", "no change", None),
        (
            f"B2+1 one changed {label(size)} (SQLite)",
            f"{label(size)} one changed (SQLite)",
            "one changed",
            STAGED_FLOOR_RATIO,
        ),
        (
            f"B3 1% changed, 1% gone ({label(plan.b3)})",
            f"{label(plan.b3)} 1% changed",
            "1% changed",
            STAGED_FLOOR_RATIO,
        ),
    )
    for scenario, path, key, cap in staged:
        result = _find(bench, scenario)
        if result is None:
            continue
        wall, cpu, rss = _syncd(result)
        peer = bench.peer_runs.get(f"{label(size)} {key}")
        row = SideBySide(path, result.profiles, wall, cpu, rss, peer, result.floor_s, "", None)
        if cap is None:
            row.target = "no worse than before (B2's own target)"
            row.met = result.met
        else:
            row.target = f"≤ {cap:.0f}x floor"
            row.met = None if bench.quick else (row.floor_ratio or math.inf) <= cap
        rows.append(row)
    largest = max(plan.postgres_sizes, default=0)
    result = _find(bench, f"B2+1 one changed {label(largest)} (PostgreSQL)") if largest else None
    if result is not None:
        wall, cpu, rss = _syncd(result)
        row = SideBySide(
            f"{label(largest)} one changed (PostgreSQL, staged)", result.profiles, wall, cpu,
            rss, None, result.floor_s, f"≤ {STAGED_10M_FLOOR_RATIO:.0f}x floor", None,
        )  # fmt: skip
        row.met = None if bench.quick else (row.floor_ratio or math.inf) <= STAGED_10M_FLOOR_RATIO
        rows.append(row)
    return rows


HEADER = (
    "path",
    "profiles",
    "syncd wall s",
    "peer wall s",
    "wall x peer",
    "syncd CPU s",
    "peer CPU s",
    "CPU x peer",
    "syncd RSS MB",
    "peer RSS MB",
    "x floor",
    "target",
    "met?",
)


def _cells(row: SideBySide) -> list[str]:
    def number(value: float | None, digits: int = 2) -> str:
        return "-" if value is None else f"{value:,.{digits}f}"

    peer = row.peer
    return [
        row.path,
        f"{row.profiles:,}",
        number(row.syncd_wall),
        number(peer.wall_s if peer else None),
        number(row.wall_ratio),
        number(row.syncd_cpu),
        number(peer.cpu_s if peer else None),
        number(row.cpu_ratio),
        number(row.syncd_rss, 0),
        number(peer.peak_rss_mb if peer else None, 0),
        number(row.floor_ratio, 1),
        row.target,
        {True: "yes", False: "NO", None: "-"}[row.met],
    ]


def table(rows: list[SideBySide]) -> str:
    """The side-by-side table for the terminal."""
    cells = [list(HEADER), *(_cells(r) for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    lines = []
    for n, line in enumerate(cells):
        lines.append(
            "  ".join(
                c.ljust(widths[i]) if i in (0, 11) else c.rjust(widths[i])
                for i, c in enumerate(line)
            ).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(rows: list[SideBySide]) -> str:
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join("---" if i in (0, 11) else "---:" for i in range(len(HEADER))) + "|",
    ]
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in rows]
    return "\n".join(lines)


def as_json(rows: list[SideBySide]) -> list[dict[str, object]]:
    return [
        {
            "path": r.path,
            "profiles": r.profiles,
            "syncd": {"wall_s": r.syncd_wall, "cpu_s": r.syncd_cpu, "peak_rss_mb": r.syncd_rss},
            "peer": None if r.peer is None else asdict(r.peer),
            "wall_x_peer": r.wall_ratio,
            "cpu_x_peer": r.cpu_ratio,
            "x_floor": r.floor_ratio,
            "target": r.target,
            "met": r.met,
        }
        for r in rows
    ]
