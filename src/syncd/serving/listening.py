"""One listening socket for one aiohttp application, with limits no client can outlast.

The admin port is reachable from inside the cluster; without limits a few thousand
idle connections exhaust the process's file descriptors and `/healthz` fails. Each
listener therefore has:

- at most MAX_CONNECTIONS open connections: more are answered 503 and closed at once
  (counted in `syncd_http_connections_refused_total{listener}`; checked as each
  connection is accepted);
- HEAD_TIMEOUT seconds for a new connection to send its first request's head (request
  line and headers), however slowly it trickles in; after that aiohttp's
  `keepalive_timeout` (the same seconds) closes a connection idle between requests
  or slow to send the next head;
- two routes read a body: `POST /v1/plans`, within its own size and time limits
  (`serving.plans`), and `POST /v1/forget`; an unread body is discarded for at most
  LINGERING_TIME seconds after the answer, then the connection is closed;
  `client_max_size` (MAX_BODY_BYTES) bounds any other body a route reads;
- aiohttp's own limits on the request line and header sizes (8 KiB each), and a
  listen backlog of BACKLOG.

aiohttp has no header-read timeout of its own in every supported version, hence the
thin protocol in front of its request handler.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from prometheus_client import Counter

MAX_CONNECTIONS = 256
HEAD_TIMEOUT = 5.0
LINGERING_TIME = 2.0
MAX_BODY_BYTES = 1024
BACKLOG = 128

_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class _Refused(asyncio.Protocol):
    """A connection over the limit: told so, and closed."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(_BUSY)
        transport.close()


class _HeadDeadline(asyncio.Protocol):
    """aiohttp's request handler behind a deadline for the first request's head."""

    def __init__(self, handler: Any, listener: Listener) -> None:
        self._handler = handler
        self._listener = listener
        self._tail = b""
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._listener.head_timeout, transport.close)
        self._handler.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._timer is not None:
            seen = self._tail + data
            if b"\r\n\r\n" in seen or b"\n\n" in seen:  # the head is complete
                self._timer.cancel()
                self._timer = None
            else:
                self._tail = seen[-3:]
        self._handler.data_received(data)

    def eof_received(self) -> bool | None:
        result: bool | None = self._handler.eof_received()
        return result

    def pause_writing(self) -> None:
        self._handler.pause_writing()

    def resume_writing(self) -> None:
        self._handler.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._listener.open -= 1
        self._handler.connection_lost(exc)


class Listener:
    """`app` served on `host:port` within the limits above, until `stop`."""

    def __init__(
        self,
        app: web.Application,
        host: str,
        port: int,
        *,
        name: str,
        refused: Counter,
        max_connections: int = MAX_CONNECTIONS,
        head_timeout: float = HEAD_TIMEOUT,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.name = name
        self.refused = refused.labels(listener=name)
        self.max_connections = max_connections
        self.head_timeout = head_timeout
        self.open = 0
        self._runner: web.AppRunner | None = None
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen; raises OSError when the address cannot be used (in use, not local)."""
        runner = web.AppRunner(
            self.app,
            access_log=None,
            handle_signals=False,
            keepalive_timeout=self.head_timeout,
            lingering_time=LINGERING_TIME,
        )
        await runner.setup()
        self._runner = runner
        try:
            self._server = await asyncio.get_running_loop().create_server(
                self._admit, self.host, self.port, backlog=BACKLOG, reuse_address=True
            )
        except BaseException:
            await self.stop()
            raise
        self.port = self._server.sockets[0].getsockname()[1]  # the one chosen for port 0

    def _admit(self) -> asyncio.Protocol:
        assert self._runner is not None
        assert self._runner.server is not None
        if self.open >= self.max_connections:
            self.refused.inc()
            return _Refused()
        self.open += 1
        return _HeadDeadline(self._runner.server(), self)

    async def stop(self) -> None:
        """Stop accepting, then close every connection (aiohttp's shutdown)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
