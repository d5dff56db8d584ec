"""The SendGrid emulator in its own process, as a user starts it: `syncd emulator`.

Its CPU is not syncd's and its memory does not count in syncd's peak RSS, but it
shares the machine's cores: on two cores, a sync and the emulator applying its
jobs compete.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from bench.common import API_KEY, PYTHON, REPO

TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class EmulatorProcess:
    """`syncd emulator --job-delay 0 --quiet` on a free port, seeded with `lists`."""

    def __init__(self, lists: dict[str, str], workdir: Path, *, job_delay: float = 0.0) -> None:
        self.lists = lists
        self.workdir = workdir
        self.job_delay = job_delay
        self.url = ""
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> EmulatorProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        seed = self.workdir / "emulator-seed.yaml"
        seed.write_text(
            yaml.safe_dump({"lists": [{"id": i, "name": n} for i, n in self.lists.items()]}),
            encoding="utf-8",
        )
        log = (self.workdir / "emulator.log").open("w", encoding="utf-8")
        self._process = subprocess.Popen(
            [
                *(PYTHON, "-m", "syncd", "emulator", "--host", "127.0.0.1", "--port", "0"),
                *("--seed", str(seed), "--job-delay", str(self.job_delay), "--quiet"),
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        log.close()
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if "listening on" not in line:
            self.stop()
            raise RuntimeError(f"the emulator did not start: {line!r}; see {log.name}")
        self.url = line.rsplit(" ", 1)[1]
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    def rss_mb(self) -> float:
        return proc_rss_mb(self.pid)

    # -- the HTTP side ---------------------------------------------------------------------
    def _call(self, method: str, path: str, body: Any = None, *, auth: bool = False) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("Authorization", f"Bearer {API_KEY}")
        with urllib.request.urlopen(request, timeout=120) as reply:
            return json.loads(reply.read() or b"null")

    def requests(self) -> list[dict[str, Any]]:
        """The request log: one record per `/v3/` request since the start."""
        records: list[dict[str, Any]] = self._call("GET", "/_emulator/requests")
        return records

    def list_count(self, list_id: str) -> int:
        """Members of a list, as SendGrid reports them (GET /v3/marketing/lists/{id})."""
        found = self._call("GET", f"/v3/marketing/lists/{list_id}", auth=True)
        return int(found["contact_count"])

    def search(self, emails: list[str]) -> dict[str, Any]:
        """`POST /v3/marketing/contacts/search/emails` (≤ 100 emails)."""
        found = self._call(
            "POST", "/v3/marketing/contacts/search/emails", {"emails": emails}, auth=True
        )
        result: dict[str, Any] = found["result"]
        return result


def timeline(records: list[dict[str, Any]], launched: float, wall: float) -> dict[str, float]:
    """When a run's requests arrived, in seconds from its launch: the first request, the
    first and last upsert, the first and last removal, the last request, and the exit."""

    def at(record: dict[str, Any]) -> float:
        return round(float(record["time"]) - launched, 2)

    if not records:
        return {"exit": round(wall, 2)}
    upserts = [r for r in records if r["template"] == "PUT /v3/marketing/contacts"]
    removals = [r for r in records if r["method"] == "DELETE"]
    marks = {"first_request": at(records[0])}
    if upserts:
        marks["first_upsert"], marks["last_upsert"] = at(upserts[0]), at(upserts[-1])
    if removals:
        marks["first_removal"], marks["last_removal"] = at(removals[0]), at(removals[-1])
    return {**marks, "last_request": at(records[-1]), "exit": round(wall, 2)}


def summarize(records: list[dict[str, Any]]) -> dict[str, int]:
    """Requests by kind: writes (PUT/DELETE), upserts, contacts sent, searches, polls."""
    upserts = [r for r in records if r["template"] == "PUT /v3/marketing/contacts"]
    return {
        "requests": len(records),
        "writes": sum(1 for r in records if r["method"] in ("PUT", "PATCH", "DELETE")),
        "upserts": len(upserts),
        "sent": sum(r["contact_count"] or 0 for r in upserts if r["status"] == 202),
        "searches": sum(1 for r in records if r["template"].endswith("/search/emails")),
        "removals": sum(
            1 for r in records if r["template"] == "DELETE /v3/marketing/lists/{id}/contacts"
        ),
        "removed_ids": sum(
            r["contact_count"] or 0
            for r in records
            if r["template"] == "DELETE /v3/marketing/lists/{id}/contacts"
        ),
        "polls": sum(1 for r in records if r["template"].endswith("/imports/{id}")),
        "rate_limited": sum(1 for r in records if r["status"] == 429),
        "failed": sum(1 for r in records if r["status"] is None or r["status"] >= 500),
    }
