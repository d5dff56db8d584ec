"""A1: `syncd audit NAME` of a 1,000,000-contact list, against reading its export with `csv`.

The 1M SQLite world (exported by the setup, or by B2/B3 before) is audited right after its
last sync, in its own process like a sync (`syncd audit NAME`, settle window 0 so that
every contact is compared): wall time less the wait for the export to be built (SendGrid's
time, printed beside it), and peak RSS. The floor is the standard library
reading the same export: the files the emulator serves for the list (gzip'd, as SendGrid's
are), read with `gzip` and `csv.reader`, best of 3, in this process. Targets:
peak RSS ≤ 150 MB, wall ≤ 3x the floor, and no drift found.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.common import PYTHON, WORK, Result, say
from bench.plan import Bench, label
from bench.syncing import launch
from bench.worlds import sqlite_world

AUDIT_TARGET_RATIO = 3.0
AUDIT_TARGET_RSS_MB = 150.0


def audit_row(bench: Bench) -> Result:
    started = time.perf_counter()
    size = bench.plan.b3
    world = sqlite_world(bench, size)
    emulator = bench.emulator
    assert emulator is not None
    emulator._call("PATCH", "/_emulator/behaviour", {"export_gzip": True})
    scenario = f"A1 audit {label(size)} (SQLite)"
    say(f"{scenario}: the export read back and compared…")
    log = world.directory / "audit.log"
    env = {
        **world.env(emulator.url),
        "SYNCD_AUDIT_SETTLE_WINDOW": "0",
        "SYNCD_JOB_POLL_MAX_INTERVAL": "0.5",
    }
    with log.open("w", encoding="utf-8") as output:
        began = time.perf_counter()
        code, (maxrss_kb, user_s, sys_s) = launch(
            [PYTHON, "-m", "syncd", "audit", world.name], env=env, output=output
        )
        wall = time.perf_counter() - began
    done = _audit_done(log)
    floor_s, rows, files = _floor(emulator, world.list_id, WORK / "audit-floor")
    rss = maxrss_kb / 1024
    problems = []
    if code != 0:
        problems.append(f"exit {code} (see {log})")
    drift = {k: done.get(k) for k in ("missing", "extra", "stale", "unacknowledged")}
    if any(drift.values()):
        problems.append(f"drift found: {drift}")
    # The wait for SendGrid to build the export is SendGrid's time (minutes, for a real
    # list), not syncd's: the target is judged on the rest, and both are printed.
    waited = float(done.get("export_s") or 0.0)
    own = wall - waited
    ratio = own / floor_s if floor_s else float("inf")
    met = not problems and ratio <= AUDIT_TARGET_RATIO and rss <= AUDIT_TARGET_RSS_MB
    bench.phase(scenario, started)
    return bench.add(
        Result(
            scenario=scenario,
            profiles=size,
            wall_s=own,
            floor_s=floor_s,
            peak_rss_mb=rss,
            target=f"≤ {AUDIT_TARGET_RATIO:.0f}x csv of the export, ≤ {AUDIT_TARGET_RSS_MB:.0f} MB",
            met=met,
            note="; ".join(
                [
                    *problems,
                    f"wall: syncd's own time, {wall:.1f}s less {waited:.1f}s waiting for the "
                    "export to be built",
                    f"compared the {done.get('way', '?')} way",
                    f"floor: gzip + csv.reader over the {files} export file(s), {rows:,} rows",
                    f"syncd CPU {user_s + sys_s:.1f}s",
                ]
            ),
            extra={
                "drift": drift,
                "export_files": files,
                "wall_with_export_wait_s": round(wall, 3),
                "export_wait_s": waited,
                "way": done.get("way"),
                "cpu_s": round(user_s + sys_s, 3),
            },
        )
    )


def _audit_done(log: Path) -> dict[str, Any]:
    for line in reversed(log.read_text(encoding="utf-8", errors="replace").splitlines()):
        if '"audit.done"' in line:
            try:
                event: dict[str, Any] = json.loads(line)
            except ValueError:
                continue
            return event
    return {}


def _floor(emulator: Any, list_id: str, directory: Path) -> tuple[float, int, int]:
    """Export the list once more, download its files, and time the stdlib reading them."""
    directory.mkdir(parents=True, exist_ok=True)
    started = emulator._call(
        "POST", "/v3/marketing/contacts/exports", {"list_ids": [list_id]}, auth=True
    )
    while True:
        state = emulator._call("GET", f"/v3/marketing/contacts/exports/{started['id']}", auth=True)
        if state["status"] != "pending":
            break
        time.sleep(0.5)
    paths = []
    for number, url in enumerate(state.get("urls", []), start=1):
        path = directory / f"export-{number}"
        with urllib.request.urlopen(url, timeout=600) as reply, path.open("wb") as sink:
            while chunk := reply.read(1 << 20):
                sink.write(chunk)
        paths.append(path)
    best, rows = float("inf"), 0
    for _ in range(3):
        began = time.perf_counter()
        rows = 0
        for path in paths:
            with gzip.open(path, "rb") as raw, io.TextIOWrapper(raw, encoding="utf-8") as text:
                for _row in csv.reader(text):
                    rows += 1
        best = min(best, time.perf_counter() - began)
    return best, rows, len(paths)
