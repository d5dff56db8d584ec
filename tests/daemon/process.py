"""`syncd run` as a real process, the way a user or Kubernetes starts it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Daemon:
    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.env = {**os.environ, **env, "SYNCD_LISTEN": f"127.0.0.1:{self.port}"}
        self.args = args or ("run",)
        self.process: asyncio.subprocess.Process | None = None
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(env["SYNCD_STATE"]).with_suffix(f".{self.port}.log")

    async def start(self, ready_within: float = 20, *, until: str = "/readyz") -> None:
        """Starts `syncd run`; returns once `until` answers 200 (`/healthz` for a daemon that
        is expected to serve without being ready)."""
        handle = self.log.open("wb")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "syncd", *self.args, env=self.env, stdout=handle, stderr=handle
        )
        handle.close()
        async with asyncio.timeout(ready_within):
            while True:
                if self.process.returncode is not None:
                    raise AssertionError(f"syncd exited early:\n{self.output()}")
                try:
                    status, _ = await self.get(until)
                    if status == 200:
                        return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)

    async def get(self, path: str) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as http, http.get(self.url + path) as reply:
            body = await reply.text()
            try:
                return reply.status, await reply.json(content_type=None)
            except ValueError:
                return reply.status, body

    async def post(self, path: str, token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.url + path, headers=headers) as reply,
        ):
            return reply.status, await reply.json(content_type=None)

    async def until(self, path: str, check: Any, within: float = 15) -> Any:
        async with asyncio.timeout(within):
            while True:
                try:
                    status, body = await self.get(path)
                except aiohttp.ClientError:  # not listening yet
                    status, body = 0, None
                if status == 200 and check(body):
                    return body
                await asyncio.sleep(0.1)

    async def stop(self, sig: int = signal.SIGTERM, within: float = 30) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(sig)
        async with asyncio.timeout(within):
            return await self.process.wait()

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
