"""syncd as an attacker meets it: real processes, real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from pathlib import Path

from tests.fixtures_emulator import TEST_API_KEY
from tests.reconciling.world import World


def env_for(world: World, **extra: str) -> dict[str, str]:
    """A daemon's or a command's environment for `world` (the emulator as SendGrid)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("SYNCD_")}
    return {
        **inherited,
        "SENDGRID_API_KEY": TEST_API_KEY,
        "SYNCD_SENDGRID_BASE_URL": world.emulator.url,
        "SYNCD_DESTINATIONS": str(world.destinations),
        "SYNCD_STATE": str(world.root / "daemon-state.db"),
        "SYNCD_LOG_FORMAT": "json",
        "SYNCD_RESCAN_INTERVAL": "1",
        "SYNCD_DEBOUNCE": "0.2",
        "SYNCD_JOB_POLL_MAX_INTERVAL": "0.2",
        **extra,
    }


class Recorder:
    """A listening TCP socket that records every connection and every byte sent to it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.connections = 0
        self.received = b""
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Recorder:
        self._server = await asyncio.start_server(self._record, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _record(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        with contextlib.suppress(TimeoutError):
            self.received += await asyncio.wait_for(reader.read(65536), 2)
        writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        writer.close()


def port_in_use() -> tuple[socket.socket, int]:
    """A listening socket on a free port of 127.0.0.1 (the caller closes it)."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port: int = taken.getsockname()[1]
    return taken, port


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
