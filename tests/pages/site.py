"""The example deployment with one destination in each kind of state, as real processes.

A copy of the repository's example (destinations.d/ and examples/) runs against the
emulator: `vip-newsletter` succeeds with a few rejected rows, `flash-sale` names a list
the account does not have (stalled), and `eu-customers` succeeds, then its file is
broken (its last good version runs on). Used by the browser tests and by
`make screenshots`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[2]
TOKEN = "page-tests-admin-token"
API_KEY = "SG.page-tests.not-a-real-key"
MISSING_LIST = "0badc0de-0000-4000-8000-000000000000"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as reply:
        return json.loads(reply.read())


class Site:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen[bytes]] = []

    def _spawn(self, env: dict[str, str], *args: str, log: str) -> subprocess.Popen[bytes]:
        with (self.root / log).open("wb") as handle:
            process = subprocess.Popen(
                [sys.executable, "-m", "syncd", *args],
                env={**os.environ, **env},
                stdout=handle,
                stderr=handle,
                cwd=self.root,
            )
        self.processes.append(process)
        return process

    def start(self, within: float = 90) -> None:
        shutil.copytree(REPOSITORY / "examples", self.root / "examples")
        destinations = self.root / "destinations.d"
        shutil.copytree(REPOSITORY / "destinations.d", destinations)
        for file in destinations.glob("*.yaml"):  # no second run while the pages are looked at
            text = re.sub(r"schedule: \{.*\}", "schedule: {interval: 1h}", file.read_text())
            file.write_text(text)
        flash = destinations / "flash-sale.yaml"
        flash.write_text(
            flash.read_text().replace("9d41c7e2-58ab-4f06-93c1-2e7b6a0f4d85", MISSING_LIST)
        )
        seed = (REPOSITORY / "examples" / "emulator-seed.yaml").read_text()
        (self.root / "seed.yaml").write_text(seed.replace("job_delay: 1.0", "job_delay: 0.2"))
        emulator_port = free_port()
        self._spawn(
            {},
            "emulator",
            "--port",
            str(emulator_port),
            "--seed",
            str(self.root / "seed.yaml"),
            "--quiet",
            log="emulator.log",
        )
        self._spawn(
            {
                "SENDGRID_API_KEY": API_KEY,
                "SYNCD_SENDGRID_BASE_URL": f"http://127.0.0.1:{emulator_port}",
                "SYNCD_DESTINATIONS": str(destinations),
                "SYNCD_STATE": str(self.root / "state" / "state.db"),
                "SYNCD_LISTEN": f"127.0.0.1:{self.port}",
                "SYNCD_ADMIN_TOKEN": TOKEN,
                "SYNCD_LOG_FORMAT": "json",
                "SYNCD_RESCAN_INTERVAL": "1",
                "SYNCD_DEBOUNCE": "0.2",
                "SYNCD_JOB_POLL_MAX_INTERVAL": "0.2",
            },
            "run",
            log="daemon.log",
        )
        deadline = time.monotonic() + within
        self._until(
            deadline,
            lambda s: (
                s["vip-newsletter"]["state"] == "ready"
                and s["eu-customers"]["state"] == "ready"
                and s["flash-sale"]["state"] == "stalled"
            ),
        )
        eu = destinations / "eu-customers.yaml"
        eu.write_text(eu.read_text().replace("segments:", "segmentz:", 1))
        self._until(deadline, lambda s: bool(s["eu-customers"]["fileProblems"]))

    def _until(self, deadline: float, check: Any) -> None:
        while True:
            try:
                body = get(f"{self.url}/v1/destinations")
                if check({d["name"]: d for d in body["destinations"]}):
                    return
            except (OSError, KeyError, ValueError):
                pass
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                log = (self.root / "daemon.log").read_text(errors="replace")[-3000:]
                raise AssertionError(f"the example did not reach its states in time:\n{log}")
            time.sleep(0.2)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
