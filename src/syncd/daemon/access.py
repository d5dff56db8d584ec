"""How the daemon is reached: the rule for its admin token, its listeners, and the token
`syncd` commands on the same host use when no admin token is set."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Sequence

from syncd import serving
from syncd.allowlists import is_loopback
from syncd.logs import get_logger
from syncd.metrics import Metrics
from syncd.settings import InvalidSettings, Settings, parse_listen

log = get_logger("syncd.daemon")


def admin_token(settings: Settings) -> str | None:
    """SYNCD_ADMIN_TOKEN; refuses to go on when the admin port is open beyond loopback
    without one (anyone reaching it could lift the removal guard)."""
    token = settings.admin_token.get_secret_value() if settings.admin_token else None
    host, _ = settings.listen_address
    if not token and not is_loopback(host):
        raise InvalidSettings(
            f"SYNCD_LISTEN: {settings.listen} listens beyond loopback without "
            "SYNCD_ADMIN_TOKEN; set the token, or listen on 127.0.0.1 and serve metrics "
            "and health to others with SYNCD_METRICS_LISTEN"
        )
    return token or None


@contextlib.asynccontextmanager
async def listening(
    settings: Settings,
    metrics: Metrics,
    admin: serving.Listener,
    ready: serving.Readiness,
) -> AsyncIterator[Sequence[serving.Listener]]:
    """The admin listener, and the metrics one when configured, for the block's duration.
    An address that cannot be used is a setting to change, not a crash."""
    listeners = [(admin, "SYNCD_LISTEN (or --listen)", settings.listen)]
    if settings.metrics_listen:
        app = serving.build_metrics_app(metrics, ready)
        host, port = parse_listen(settings.metrics_listen)
        refused = metrics.connections_refused
        only_metrics = serving.Listener(app, host, port, name="metrics", refused=refused)
        listeners.append((only_metrics, "SYNCD_METRICS_LISTEN", settings.metrics_listen))
    started: list[serving.Listener] = []
    try:
        for listener, setting, value in listeners:
            try:
                await listener.start()
            except OSError as error:
                raise InvalidSettings(
                    f"{setting}: cannot listen on {value}: {_why(error)}; choose an address "
                    "this host can listen on (or free the port)"
                ) from None
            started.append(listener)
        yield started
    finally:
        for listener in reversed(started):
            await listener.stop()


def address(host: str, port: int) -> str:
    """Where the CLI on this host reaches the admin listener (a wildcard bind via loopback)."""
    if host in ("0.0.0.0", "::"):  # noqa: S104 - reaching a wildcard bind locally
        host = "127.0.0.1"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _why(error: OSError) -> str:
    """asyncio words a failed bind at length; the error's own short text is enough."""
    if isinstance(error, socket.gaierror) or not error.errno:
        return error.strerror or str(error)  # an unknown host name
    return os.strerror(error.errno)


@contextlib.asynccontextmanager
async def host_token(settings: Settings, token: str | None) -> AsyncIterator[str | None]:
    """Without SYNCD_ADMIN_TOKEN, the token `syncd sync --allow-removals` on this host
    uses, written beside the SQLite ledger for the block's duration."""
    path = None if token else serving.host_token_path(settings.state)
    if path is None:
        yield None
        return
    try:
        created = await asyncio.to_thread(serving.create_host_token, path)
    except OSError as error:  # a read-only directory: removals then need SYNCD_ADMIN_TOKEN
        log.warning("daemon.host_token_unavailable", file=str(path), error=error.strerror)
        yield None
        return
    try:
        yield created
    finally:
        serving.remove_host_token(path)
