"""One destination as a user sets it up, and `syncd sync NAME` run as a user runs it.

Each run is its own process (`python -m syncd sync NAME`), configured only through
the environment, so its wall time and peak RSS (`wait4`'s `ru_maxrss`, taken by a small
launcher: see bench/launcher.py) are its own: interpreter start-up and imports included.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from bench.common import API_KEY, DATA, PYTHON, REPO, WORK

LAUNCHER = Path(__file__).with_name("launcher.py")

MAPPING = {
    "email": "Email",
    "first_name": "FirstName",
    "last_name": "LastName",
    "country": "Country",
    "state_province_region": "State",
    "city": "City",
    "postal_code": "PostalCode",
}
MAX_PROFILES = 50_000_000


def destination_document(
    name: str, list_id: str, csv_path: Path, *, interval: str | None = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "sendgrid": {"apiKey": {"env": "SENDGRID_API_KEY"}, "listId": list_id},
        "consent": {"dataPrivacyAcknowledged": True},
        "segments": [{"name": "everyone", "source": {"csv": {"path": str(csv_path)}}}],
        "mapping": MAPPING,
        "limits": {"maxProfiles": MAX_PROFILES},
    }
    if interval:
        spec["schedule"] = {"interval": interval}
    return {
        "apiVersion": "syncd/v1",
        "kind": "SendGridDestination",
        "metadata": {"name": name},
        "spec": spec,
    }


@dataclass
class World:
    """A directory with one destination file, its ledger and the logs of its runs."""

    name: str
    list_id: str
    state: str = ""  # SQLite path (default: in the directory) or a postgresql:// URL
    runs: int = 0

    @property
    def directory(self) -> Path:
        return WORK / self.name

    @property
    def destinations(self) -> Path:
        return self.directory / "destinations.d"

    def create(self) -> World:
        shutil.rmtree(self.directory, ignore_errors=True)
        self.destinations.mkdir(parents=True)
        if not self.state:
            self.state = str(self.directory / "state.db")
        return self

    def point_at(self, csv_path: Path) -> None:
        """(Re)write the destination file so that its one segment is this file."""
        document = destination_document(self.name, self.list_id, csv_path)
        (self.destinations / f"{self.name}.yaml").write_text(
            yaml.safe_dump(document, sort_keys=False), encoding="utf-8"
        )

    def env(self, emulator_url: str) -> dict[str, str]:
        return {
            **os.environ,
            "SENDGRID_API_KEY": API_KEY,
            "SYNCD_SENDGRID_BASE_URL": emulator_url,
            "SYNCD_DESTINATIONS": str(self.destinations),
            "SYNCD_SOURCE_DIRS": str(DATA),  # the generated segments, outside the world
            "SYNCD_STATE": self.state,
            "SYNCD_LOG_FORMAT": "json",
        }


@dataclass
class SyncRun:
    wall_s: float
    peak_rss_mb: float
    cpu_s: float
    exit_code: int
    user_s: float = 0.0
    sys_s: float = 0.0
    report: dict[str, Any] = field(default_factory=dict)
    log: Path | None = None

    @property
    def duration_s(self) -> float | None:
        value = self.report.get("duration_s")
        return float(value) if value is not None else None

    def count(self, name: str) -> int:
        return int(self.report.get(name, 0))


def run_sync(world: World, emulator_url: str, *, profile: Path | None = None) -> SyncRun:
    """`python -m syncd sync NAME` in its own process, measured.

    With `profile`, the process runs under `py-spy record` (raw collapsed stacks, idle
    samples included, 100 Hz) and the figures carry py-spy's small overhead.
    """
    world.runs += 1
    log = world.directory / f"run-{world.runs}.log"
    command = [PYTHON, "-m", "syncd", "sync", world.name]
    if profile is not None:
        profile.parent.mkdir(parents=True, exist_ok=True)
        pyspy = shutil.which("py-spy")
        assert pyspy is not None, "--profile needs py-spy on PATH (pip install py-spy)"
        command = [
            *(pyspy, "record", "--idle", "--threads", "--format", "raw", "--rate", "100"),
            *("--output", str(profile), "--"),
            *command,
        ]
    with log.open("w", encoding="utf-8") as output:
        started = time.perf_counter()
        exit_code, (maxrss_kb, user_s, sys_s) = launch(
            command, env=world.env(emulator_url), output=output
        )
        wall = time.perf_counter() - started
    return SyncRun(
        wall_s=wall,
        peak_rss_mb=maxrss_kb / 1024,
        cpu_s=user_s + sys_s,
        exit_code=exit_code,
        user_s=user_s,
        sys_s=sys_s,
        report=(reconcile_events(log) or [{}])[-1],
        log=log,
    )


def launch(
    command: list[str], *, env: dict[str, str], output: IO[str]
) -> tuple[int, tuple[float, float, float]]:
    """Run `command` through bench/launcher.py: its exit code, and its own peak RSS (KB)
    and CPU seconds (user, system)."""
    read_end, write_end = os.pipe()
    try:
        process = subprocess.Popen(
            [PYTHON, "-I", "-S", str(LAUNCHER), str(write_end), *command],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=output,
            pass_fds=(write_end,),
        )
        os.close(write_end)
        write_end = -1
        with os.fdopen(read_end, "rb") as report:
            read_end = -1
            figures = report.read().split()
        exit_code = process.wait()
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)
    if len(figures) != 3:
        raise RuntimeError(f"the launcher reported nothing for {command[:4]} (exit {exit_code})")
    maxrss_kb, user_s, sys_s = (float(f) for f in figures)
    return exit_code, (maxrss_kb, user_s, sys_s)


def reconcile_events(log: Path) -> list[dict[str, Any]]:
    """The fields of every `reconcile.done` line (the canonical line per run) in a log."""
    found: list[dict[str, Any]] = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if '"reconcile.done"' not in line:
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("event") == "reconcile.done":
            found.append(event)
    return found
