"""Daemon overhead: `syncd run` with 200 destinations of 1,000 profiles each, every 30 s.

Each destination has its own CSV file and its own list in one emulator process. The
daemon is sampled from /proc once a second (CPU time, RSS); its log's
`reconcile.done` lines say when each run started and ended. Reported:

- warm-up: until every destination had its first run (the initial exports); then every
  destination is triggered at once (`POST /v1/destinations/NAME/sync`), so that their
  refreshes fall together every interval as after a restart, instead of wherever each
  initial export happened to end (a warm-up longer than the interval would otherwise
  leave no second without a run, on a slow machine);
- after that, the CPU share of one core overall (the refresh runs included) and
  *between runs* (the seconds in which no run was in flight: timers, the watcher's
  rescans, the admin server);
- peak and median RSS, and the write requests after warm-up (there must be none:
  nothing changes).

    python -m bench.daemon_overhead [--minutes 10] [--destinations 200] [--profiles 1000]

`make bench` runs it for 3 minutes; the figures in docs/performance.md are from a
10-minute run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from bench.common import API_KEY, DATA, PYTHON, REPO, WORK, Result, exclusive, say, table
from bench.data import Dataset
from bench.emulator import EmulatorProcess, proc_cpu_seconds, proc_rss_mb
from bench.syncing import destination_document, reconcile_events

TARGET_CPU_SHARE = 0.05
TARGET_RSS_MB = 200.0
WARMUP_LIMIT_S = 600.0
_NAMESPACE = uuid.UUID("6f9d2c1e-4b7a-4e0f-9c3d-2a1b0e8f7d6c")


@dataclass
class Figures:
    minutes: float
    destinations: int
    profiles_each: int
    interval_s: float
    warmup_s: float | None = None
    window_s: float = 0.0
    cpu_share: float | None = None  # of one core, after warm-up, runs included
    idle_cpu_share: float | None = None  # of one core, in the seconds with no run in flight
    idle_s: float = 0.0
    peak_rss_mb: float = 0.0
    median_rss_mb: float = 0.0
    hwm_mb: float = 0.0
    runs: int = 0
    failed_runs: int = 0
    mean_run_s: float = 0.0
    busy_share: float = 0.0  # of the window, with at least one run in flight
    requests: int = 0
    writes: int = 0
    emulator_cpu_share: float = 0.0
    notes: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def _runs(log: Path) -> list[tuple[str, float, float, str]]:
    """(destination, start, end, outcome) of every run in the daemon's log."""
    found = []
    for event in reconcile_events(log):
        end = _epoch(event["timestamp"])
        found.append(
            (event["destination"], end - float(event["duration_s"]), end, event["outcome"])
        )
    return found


def _vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(
    minutes: float, *, destinations: int = 200, profiles: int = 1000, interval_s: float = 30.0
) -> Figures:
    figures = Figures(minutes, destinations, profiles, interval_s)
    root = WORK / "daemon"
    shutil.rmtree(root, ignore_errors=True)
    directory = root / "destinations.d"
    directory.mkdir(parents=True)
    lists: dict[str, str] = {}
    say(f"daemon: {destinations} destinations of {profiles:,} profiles, every {interval_s:g}s…")
    for k in range(destinations):
        name = f"d-{k:03d}"
        list_id = str(uuid.uuid5(_NAMESPACE, name))
        lists[list_id] = name
        csv_path = Dataset(profiles, start=k * profiles, stem=f"daemon-{profiles}-{k:03d}").ensure(
            quiet=True
        )
        document = destination_document(name, list_id, csv_path, interval=f"{interval_s:g}s")
        (directory / f"{name}.yaml").write_text(
            yaml.safe_dump(document, sort_keys=False), encoding="utf-8"
        )
    log = root / "daemon.log"
    with EmulatorProcess(lists, root / "emulator") as emulator:
        env = {
            **os.environ,
            "SENDGRID_API_KEY": API_KEY,
            "SYNCD_SENDGRID_BASE_URL": emulator.url,
            "SYNCD_DESTINATIONS": str(directory),
            "SYNCD_SOURCE_DIRS": str(DATA),  # the generated segments, outside the world
            "SYNCD_STATE": str(root / "state.db"),
            "SYNCD_LISTEN": f"127.0.0.1:{_free_port()}",
            "SYNCD_LOG_FORMAT": "json",
        }
        samples: list[tuple[float, float, float]] = []  # (epoch, cpu seconds, rss MB)
        emulator_cpu: list[tuple[float, float]] = []
        aligned = 0.0
        with log.open("w", encoding="utf-8") as output:
            started = time.time()
            daemon = subprocess.Popen(
                [PYTHON, "-m", "syncd", "run"], cwd=REPO, env=env, stdout=output, stderr=output
            )
            try:

                def sample() -> None:
                    now = time.time()
                    samples.append((now, proc_cpu_seconds(daemon.pid), proc_rss_mb(daemon.pid)))
                    emulator_cpu.append((now, emulator.cpu_seconds()))

                admin = env["SYNCD_LISTEN"]
                warm = _sample_until(
                    sample, lambda: _all_succeeded(admin, destinations), WARMUP_LIMIT_S, daemon
                )
                if warm is None:
                    figures.notes.append(f"not every destination succeeded in {WARMUP_LIMIT_S}s")
                else:
                    figures.warmup_s = warm - started
                    aligned = time.time()
                    for name in lists.values():
                        _trigger(admin, name)
                    _sample_until(sample, lambda: False, minutes * 60, daemon, report=True)
                if daemon.poll() is not None:
                    figures.notes.append(f"the daemon exited early ({daemon.returncode})")
                else:
                    figures.hwm_mb = _vm_hwm_mb(daemon.pid)
            finally:
                if daemon.poll() is None:
                    daemon.send_signal(signal.SIGTERM)
                    try:
                        daemon.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        daemon.kill()
                        daemon.wait()
        requests = emulator.requests()
    if aligned:
        _analyse(figures, aligned, samples, emulator_cpu, _runs(log), requests)
    return figures


def _sample_until(
    sample: Callable[[], None],
    done: Callable[[], bool],
    limit_s: float,
    daemon: subprocess.Popen[bytes],
    *,
    report: bool = False,
) -> float | None:
    """Sample once a second until `done()` (its time) or `limit_s` (None)."""
    deadline = time.monotonic() + limit_s
    tick = time.monotonic()
    minutes = 0
    while time.monotonic() < deadline and daemon.poll() is None:
        sample()
        if done():
            return time.time()
        if report and tick - (deadline - limit_s) >= 60 * (minutes + 1):
            minutes += 1
            say(f"  {minutes} min")
        tick += 1.0
        time.sleep(max(0.0, tick - time.monotonic()))
    return None


def _all_succeeded(admin: str, destinations: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{admin}/v1/destinations", timeout=5) as response:
            items = json.loads(response.read())
    except OSError:
        return False  # not listening yet
    succeeded = sum(1 for item in items["destinations"] if item.get("lastSuccessAt"))
    return succeeded >= destinations


def _trigger(admin: str, name: str) -> None:
    request = urllib.request.Request(f"http://{admin}/v1/destinations/{name}/sync", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def _analyse(
    figures: Figures,
    warm: float,
    samples: list[tuple[float, float, float]],
    emulator_cpu: list[tuple[float, float]],
    runs: list[tuple[str, float, float, str]],
    requests: list[dict[str, Any]],
) -> None:
    if len(samples) < 3:
        figures.notes.append("too few samples")
        return
    window = [s for s in samples if s[0] >= warm]
    if len(window) < 3:
        figures.notes.append("the warm-up took the whole measurement")
        return
    figures.window_s = window[-1][0] - window[0][0]
    figures.cpu_share = (window[-1][1] - window[0][1]) / figures.window_s
    intervals = sorted((start, end) for _, start, end, _ in runs if end >= warm)
    idle_cpu = idle_s = busy_s = 0.0
    for (t0, cpu0, _), (t1, cpu1, _) in itertools.pairwise(window):
        overlapping = [(max(s, t0), min(e, t1)) for s, e in intervals if s < t1 and e > t0]
        if overlapping:
            busy_s += t1 - t0
        else:
            idle_s += t1 - t0
            idle_cpu += cpu1 - cpu0
    figures.idle_s = idle_s
    figures.busy_share = busy_s / figures.window_s
    figures.idle_cpu_share = idle_cpu / idle_s if idle_s else None
    rss = [s[2] for s in window]
    figures.peak_rss_mb = max(s[2] for s in samples)
    figures.median_rss_mb = statistics.median(rss)
    after = [r for r in runs if r[2] >= warm]
    figures.runs = len(after)
    figures.failed_runs = sum(1 for r in after if r[3] != "success")
    figures.mean_run_s = statistics.fmean(r[2] - r[1] for r in after) if after else 0.0
    late = [r for r in requests if r["time"] >= warm]
    figures.requests = len(late)
    figures.writes = sum(1 for r in late if r["method"] in ("PUT", "PATCH", "DELETE"))
    emulator_window = [e for e in emulator_cpu if e[0] >= warm]
    if len(emulator_window) >= 2:
        span = emulator_window[-1][0] - emulator_window[0][0]
        figures.emulator_cpu_share = (emulator_window[-1][1] - emulator_window[0][1]) / span


def results(figures: Figures) -> list[Result]:
    total = figures.destinations * figures.profiles_each
    shape = f"{figures.destinations} x {figures.profiles_each:,}, {figures.interval_s:g}s"
    idle = figures.idle_cpu_share
    ok_rss = figures.peak_rss_mb < TARGET_RSS_MB
    notes = "; ".join(figures.notes)
    idle_note = (
        f"{100 * idle:.2f} % of a core in {figures.idle_s:.0f}s without a run"
        if idle is not None
        else "no second without a run in flight"
    )
    steady = figures.cpu_share
    return [
        Result(
            scenario=f"daemon idle between runs ({shape}, {figures.minutes:g} min)",
            profiles=total,
            wall_s=figures.window_s,
            peak_rss_mb=figures.peak_rss_mb,
            requests=figures.requests,
            writes=figures.writes,
            target="< 5 % core, < 200 MB",
            met=(idle is not None and idle < TARGET_CPU_SHARE and ok_rss and not figures.notes),
            note="; ".join(
                x
                for x in (
                    notes,
                    idle_note,
                    f"median RSS {figures.median_rss_mb:.0f} MB",
                    f"warm-up {figures.warmup_s or 0:.0f}s",
                )
                if x
            ),
            extra=asdict(figures),
        ),
        Result(
            scenario=f"daemon steady state, runs included ({shape})",
            profiles=total,
            wall_s=figures.window_s,
            peak_rss_mb=figures.peak_rss_mb,
            requests=figures.requests,
            writes=figures.writes,
            target="(for information)",
            note=(
                f"{100 * (steady or 0):.1f} % of a core; {figures.runs} runs "
                f"(mean {figures.mean_run_s * 1000:.0f} ms, {figures.failed_runs} failed), "
                f"a run in flight {100 * figures.busy_share:.0f} % of the time; emulator "
                f"{100 * figures.emulator_cpu_share:.1f} % of a core"
            ),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="Daemon overhead with many small destinations")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--destinations", type=int, default=200)
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=30.0, help="seconds")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    with exclusive():
        figures = measure(
            args.minutes,
            destinations=args.destinations,
            profiles=args.profiles,
            interval_s=args.interval,
        )
    rows = results(figures)
    print(table(rows))
    for row in rows:
        print(f"  {row.scenario}: {row.note}")
    if args.json:
        args.json.write_text(json.dumps(asdict(figures), indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
