"""syncd from outside: its finished commands, its long-running processes, its ledger file."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

from syncd.ledger import open_ledger
from tests.daemon.process import free_port
from tests.guarantees.common import NAME

if TYPE_CHECKING:
    from tests.guarantees.harness import Scene

# -- what syncd printed ------------------------------------------------------------------


@dataclass
class Completed:
    """One finished syncd command."""

    args: tuple[str, ...]
    code: int
    out: str
    err: str
    seconds: float

    @property
    def text(self) -> str:
        return self.out + self.err

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """The JSON log lines (stderr), optionally only those of one event."""
        found = []
        for line in self.err.splitlines():
            if line.startswith("{"):
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if name is None or event.get("event") == name:
                    found.append(event)
        return found

    def describe(self) -> str:
        return f"syncd {' '.join(self.args)} → exit {self.code}\n{self.out}\n{self.err}"


# -- the ledger, read from outside -------------------------------------------------------


@dataclass(frozen=True)
class OpenBatch:
    id: int
    kind: str
    state: str
    job_id: str | None
    emails: tuple[str, ...]


def open_batches(state: Path, destination: str = NAME) -> list[OpenBatch]:
    """The outbox as the ledger file holds it now (read-only, no lock)."""
    ledger = open_ledger(str(state), writer=False)
    try:
        with ledger.session(destination) as session:
            return [
                OpenBatch(b.id, b.kind, b.state, b.job_id, tuple(session.emails(b.id)))
                for b in session.open_batches()
            ]
    finally:
        ledger.close()


def contacts_in_two_open_batches(state: Path) -> list[str]:
    """Addresses held by two outbox batches at once (the ledger forbids it by a unique index)."""
    if not state.exists():
        return []
    with sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=5) as db:
        rows = db.execute(
            "SELECT destination, email FROM outbox_items"
            " GROUP BY destination, email HAVING count(DISTINCT batch_id) > 1"
        ).fetchall()
    db.close()
    return [f"{d}:{e}" for d, e in rows]


# -- syncd as a real process ------------------------------------------------------------------


def _syncd_argv(args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "syncd", *args]


class SyncdProcess:
    """`syncd run` (or any long-running command) as a process; optionally as PID 1."""

    AS_PID_1 = (
        "import os, sys; assert os.getpid() == 1; from syncd.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )

    def __init__(
        self, scene: Scene, env: Mapping[str, str], args: Sequence[str], *, pid1: bool = False
    ) -> None:
        self.scene = scene
        self.port = free_port()
        self.env = {**env, "SYNCD_LISTEN": f"127.0.0.1:{self.port}"}
        self.args = tuple(args)
        self.pid1 = pid1
        self.url = f"http://127.0.0.1:{self.port}"
        scene.processes.append(self)
        self.log = scene.root / f"syncd-{len(scene.processes)}.log"
        scene.logs.append(self.log)
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, *, ready_within: float | None = 20) -> None:
        if self.pid1:
            argv = [
                "unshare",
                "--pid",
                "--fork",
                "--kill-child",
                sys.executable,
                "-c",
                self.AS_PID_1,
                *self.args,
            ]
        else:
            argv = _syncd_argv(self.args)
        with self.log.open("ab") as handle:
            self.process = await asyncio.create_subprocess_exec(
                *argv, env=self.env, stdout=handle, stderr=handle
            )
        if ready_within is not None:
            await self.until("/readyz", lambda _: True, within=ready_within)

    @property
    def pid(self) -> int:
        """The syncd process itself (inside the namespace, when run as PID 1)."""
        assert self.process is not None
        if not self.pid1:
            return self.process.pid
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        found = children.read_text().split()
        assert len(found) == 1, found
        return int(found[0])

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def get(self, path: str) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as http, http.get(self.url + path) as reply:
            text = await reply.text()
        self.scene.texts.append(text)
        try:
            return reply.status, json.loads(text)
        except ValueError:
            return reply.status, text

    async def post(self, path: str) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as http, http.post(self.url + path) as reply:
            text = await reply.text()
        self.scene.texts.append(text)
        return reply.status, json.loads(text)

    async def until(self, path: str, check: Callable[[Any], Any], within: float = 20) -> Any:
        async with asyncio.timeout(within):
            while True:
                if not self.running:
                    raise AssertionError(f"syncd exited early:\n{self.output()}")
                try:
                    status, body = await self.get(path)
                except aiohttp.ClientError:
                    status, body = 0, None
                if status == 200 and check(body):
                    return body
                await asyncio.sleep(0.05)

    async def status(self, name: str = NAME) -> dict[str, Any]:
        code, body = await self.get(f"/v1/destinations/{name}")
        assert code == 200, body
        assert isinstance(body, dict)
        return body

    def signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    async def wait(self, within: float = 30) -> int:
        assert self.process is not None
        async with asyncio.timeout(within):
            return await self.process.wait()

    async def stop(self, within: float = 30) -> int:
        if self.running:
            self.signal(signal.SIGTERM)
        return await self.wait(within)

    async def kill(self) -> None:
        """SIGKILL: no handler, no cleanup, as the OOM killer or a node failure does it."""
        if self.running:
            assert self.process is not None
            self.process.kill()
            await self.process.wait()

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
