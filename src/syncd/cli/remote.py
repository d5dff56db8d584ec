"""Asking a running daemon to do something and waiting for its answer: `syncd sync` and
`syncd forget` when a daemon owns the ledger."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from syncd.errors import PermanentError, TemporaryError
from syncd.reconciling.forgetting import ForgetRequest
from syncd.serving import host_token_path, read_host_token
from syncd.settings import Settings

POLL = 0.5


def _base(settings: Settings) -> str:
    host, port = settings.listen_address
    if host in ("0.0.0.0", "::"):  # noqa: S104 - reaching a wildcard bind locally
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _token(settings: Settings) -> str | None:
    """SYNCD_ADMIN_TOKEN, else the host token of a daemon that has none (same host and user)."""
    if settings.admin_token:
        return settings.admin_token.get_secret_value()
    path = host_token_path(settings.state)
    return read_host_token(path) if path is not None else None


async def sync_through_daemon(
    settings: Settings, name: str, *, allow_removals: bool, patience: float
) -> dict[str, Any]:
    """Trigger a run in the daemon and return the destination's status once it is done."""
    headers = {}
    token = _token(settings)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    base = _base(settings)
    params = {"allowRemovals": "true" if allow_removals else "false"}
    try:
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.post(f"{base}/v1/destinations/{name}/sync", params=params) as reply:
                body = await reply.json(content_type=None)
                if reply.status != 202:
                    error = body.get("error") or {}
                    why = error.get("message", reply.status) if isinstance(error, dict) else error
                    raise PermanentError(f"the daemon refused: {why}")
            request = int(body["request"])
            async with asyncio.timeout(patience):
                while True:
                    async with http.get(f"{base}/v1/destinations/{name}") as reply:
                        status: dict[str, Any] = await reply.json(content_type=None)
                    if int(status.get("lastHandledRequest", 0)) >= request:
                        return status
                    await asyncio.sleep(POLL)
    except (aiohttp.ClientError, OSError) as error:
        raise TemporaryError(
            f"another process holds the ledger, but no daemon answers on {base} "
            f"({type(error).__name__}); is SYNCD_LISTEN right?"
        ) from None
    except TimeoutError:
        raise TemporaryError(
            f"the daemon accepted the request but did not finish within {patience:.0f}s; "
            f"follow it with `syncd status {name}` or GET {base}/v1/destinations/{name}"
        ) from None


async def forget_through_daemon(
    settings: Settings, request: ForgetRequest, *, patience: float
) -> dict[str, Any]:
    """`POST /v1/forget`; the daemon answers once it is carried out (between runs of the
    destinations it touches), with what was removed where."""
    token = _token(settings)
    if not token:
        raise PermanentError(
            "the running daemon takes erasure requests only with a token: set "
            "SYNCD_ADMIN_TOKEN as the daemon has it, or run this on the daemon's host as the "
            "user it runs as"
        )
    body: dict[str, Any] = {
        "email": request.address,
        "deleteInSendgrid": request.delete_in_sendgrid,
        "undo": request.undo,
    }
    if request.destination is not None:
        body["destination"] = request.destination
    base = _base(settings)
    timeout = aiohttp.ClientTimeout(total=patience)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with (
            aiohttp.ClientSession(headers=headers, timeout=timeout) as http,
            http.post(f"{base}/v1/forget", json=body) as reply,
        ):
            try:
                answer: dict[str, Any] = await reply.json(content_type=None)
            except ValueError:
                answer = {}
            if reply.status != 200:
                raise PermanentError(f"the daemon refused: {answer.get('error', reply.status)}")
            return answer
    except (aiohttp.ClientError, OSError) as error:
        raise TemporaryError(
            f"another process holds the ledger, but no daemon answers on {base} "
            f"({type(error).__name__}); is SYNCD_LISTEN right?"
        ) from None
    except TimeoutError:
        raise TemporaryError(
            f"the daemon did not answer within {patience:.0f}s (it waits for runs in progress "
            "to end); it carries the request out all the same: run the same command again "
            "later to see where it stands"
        ) from None
