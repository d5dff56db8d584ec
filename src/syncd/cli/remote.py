"""Finding the running daemon and talking to it: its status, and what is asked of it
(`syncd sync`, `syncd forget` when a daemon owns the ledger).

The daemon that holds a SQLite ledger writes its admin address in the ledger's lock
file; the CLI asks that address only (`candidates`: SYNCD_LISTEN only for a PostgreSQL
ledger's reads), and talks to it when it answers `GET /v1/info` with the identity of the
CLI's own ledger (`SYNCD_STATE`), so it never shows or triggers another daemon's
destinations.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp

from syncd.errors import LedgerConflict, PermanentError, TemporaryError
from syncd.ledger import Ledger, ledger_identity, open_ledger, read_announcement
from syncd.reconciling.forgetting import ForgetRequest
from syncd.settings import Settings

POLL = 0.5
LOOK = aiohttp.ClientTimeout(total=3)


class UnknownDestination(PermanentError):
    """The daemon knows no destination of that name."""


def _url(address: str) -> str:
    return f"http://{address}"


def _listen_url(settings: Settings) -> str:
    host, port = settings.listen_address
    if host in ("0.0.0.0", "::"):  # noqa: S104 - reaching a wildcard bind locally
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def candidates(settings: Settings) -> list[str]:
    """Where a daemon may answer. A SQLite ledger: only the address its lock file announces,
    written by the daemon holding the lock (a command may send it the admin token, and the
    identity `/v1/info` answers is a hash anybody can compute: any local process listening
    at SYNCD_LISTEN could pass for the daemon). A PostgreSQL ledger has no lock file:
    SYNCD_LISTEN, asked for reads only (`syncd status`, `history`), never sent a token."""
    if (ledger := settings.ledger_file) is not None:
        announced = read_announcement(ledger)
        return [_url(announced["admin"])] if announced is not None else []
    return [_listen_url(settings)]


def no_daemon(settings: Settings) -> TemporaryError:
    """The ledger's lock is held, and no daemon of it answers where its lock file says."""
    where = " at " + " or ".join(tried) if (tried := candidates(settings)) else ""
    return TemporaryError(
        f"another process holds the ledger {settings.state}, but no syncd daemon holding it "
        f"answers{where} (a syncd sync of this ledger, or a daemon starting or stopping?): "
        "try again once it has ended"
    )


async def find_daemon(settings: Settings) -> str | None:
    """The base URL of the daemon holding this CLI's ledger, or None when none answers."""
    wanted = ledger_identity(settings.state)
    async with aiohttp.ClientSession(timeout=LOOK) as http:
        for base in candidates(settings):
            try:
                async with http.get(f"{base}/v1/info") as reply:
                    body = await reply.json(content_type=None)
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError):
                continue
            if isinstance(body, dict) and body.get("ledger") == wanted:
                return base
    return None


def local_ledger(settings: Settings, *, keep_runs: int | None = None) -> Ledger | None:
    """The ledger for a command to work on itself, or None when a daemon holds its file's
    lock and is to be asked instead. A shared ledger (PostgreSQL) has no such lock, and a
    process answering at SYNCD_LISTEN proves nothing (any local user may listen there and
    would be sent the admin token): the command works on it itself, and a daemon's run of
    the same destination under way stops without committing and is tried again later
    (`ClaimLost`)."""
    try:
        if keep_runs is None:
            return open_ledger(settings.state)
        return open_ledger(settings.state, keep_runs=keep_runs)
    except LedgerConflict:
        return None


def token(settings: Settings) -> str | None:
    """SYNCD_ADMIN_TOKEN, else the host token of a daemon that has none (same host and user)."""
    if settings.admin_token:
        return settings.admin_token.get_secret_value()
    # Only a command that talks to a daemon gets here: a local run does not pay for
    # importing the admin server (its app, pages and aiohttp's server side).
    from syncd.serving import host_token_path, read_host_token

    path = host_token_path(settings.state)
    return read_host_token(path) if path is not None else None


async def get_json(base: str, path: str) -> tuple[int, Any]:
    try:
        async with (
            aiohttp.ClientSession(timeout=LOOK) as http,
            http.get(f"{base}{path}") as reply,
        ):
            return reply.status, await reply.json(content_type=None)
    except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as error:
        raise TemporaryError(
            f"the daemon at {base} did not answer ({type(error).__name__})"
        ) from None


HANDLED_RUN_WITHIN = 20
"""How many of the latest runs hold the one that handled a request (it ended moments ago)."""


async def sync_through_daemon(
    settings: Settings,
    base: str,
    name: str,
    *,
    allow_removals: bool,
    patience: float,
    follow: Callable[[dict[str, Any]], None] = lambda status: None,
    accepted: Callable[[dict[str, Any]], None] = lambda answer: None,
) -> dict[str, Any]:
    """Trigger a run in the daemon, show its answer (`accepted`) and each status as it goes
    (`follow`), and return the destination's status once the run is done."""
    headers = bearer(token(settings))
    params = {"allowRemovals": "true" if allow_removals else "false"}
    try:
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.post(f"{base}/v1/destinations/{name}/sync", params=params) as reply:
                body = await reply.json(content_type=None)
                if reply.status == 404:
                    raise await _unknown(http, base, name)
                if reply.status != 202:
                    raise _refused(reply.status, body)
            request = int(body["request"])
            accepted(body)
            async with asyncio.timeout(patience):
                while True:
                    async with http.get(f"{base}/v1/destinations/{name}") as reply:
                        status: dict[str, Any] = await reply.json(content_type=None)
                    if int(status.get("lastHandledRequest", 0)) >= request:
                        return await _as_handled(http, f"{base}/v1/destinations/{name}", status)
                    follow(status)
                    await asyncio.sleep(POLL)
    except (aiohttp.ClientError, OSError) as error:
        raise TemporaryError(
            f"the daemon at {base} stopped answering ({type(error).__name__}); "
            f"follow the run with `syncd status {name}`"
        ) from None
    except TimeoutError:
        raise TemporaryError(
            f"the daemon accepted the request but did not finish within {patience:.0f}s; "
            f"follow it with `syncd status {name}` or GET {base}/v1/destinations/{name}"
        ) from None


async def _unknown(http: aiohttp.ClientSession, base: str, name: str) -> UnknownDestination:
    """The daemon knows no such destination: name the files it could not load, since a
    destination whose file has never been valid is not known by its name."""
    message = f"the daemon knows no destination named {name!r}"
    try:
        async with http.get(f"{base}/v1/destinations") as reply:
            document = await reply.json(content_type=None)
        files = [str(f["file"]) for f in document.get("invalidFiles", [])]
    except (aiohttp.ClientError, OSError, ValueError, TypeError, KeyError, AttributeError):
        files = []
    if files:
        message += f"; it could not load {', '.join(files)} (`syncd status` says why)"
    return UnknownDestination(message)


async def _as_handled(
    http: aiohttp.ClientSession, url: str, status: dict[str, Any]
) -> dict[str, Any]:
    """The status with `lastRun` the run that handled the request: a later run (a file
    changed meanwhile) may have started since, whose outcome is not this request's."""
    handled = status.get("lastHandledRun")
    if handled is None or (status.get("lastRun") or {}).get("id") == handled:
        return status
    async with http.get(f"{url}/runs", params={"limit": str(HANDLED_RUN_WITHIN)}) as reply:
        history: dict[str, Any] = await reply.json(content_type=None)
    runs = [run for run in history.get("runs", []) if run.get("id") == handled]
    return {**status, "lastRun": runs[0]} if runs else status


async def forget_through_daemon(
    settings: Settings, request: ForgetRequest, *, patience: float
) -> dict[str, Any]:
    """`POST /v1/forget`; the daemon answers once it is carried out (between runs of the
    destinations it touches), with what was removed where."""
    secret = token(settings)
    if not secret:
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
    base = await find_daemon(settings)
    if base is None:
        raise no_daemon(settings)
    timeout = aiohttp.ClientTimeout(total=patience)
    headers = bearer(secret)
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
                raise _refused(reply.status, answer)
            return answer
    except (aiohttp.ClientError, OSError) as error:
        raise TemporaryError(
            f"another process holds the ledger, but no daemon answers on {base} "
            f"({type(error).__name__}): is it stopping?"
        ) from None
    except TimeoutError:
        raise TemporaryError(
            f"the daemon did not answer within {patience:.0f}s (it waits for runs in progress "
            "to end); it carries the request out all the same: run the same command again "
            "later to see where it stands"
        ) from None


async def audit_through_daemon(
    settings: Settings,
    base: str,
    name: str,
    *,
    heal: bool,
    prune: bool,
    allow_removals: bool,
    patience: float,
) -> dict[str, Any]:
    """`POST /v1/destinations/{name}/audit`: the daemon audits between its runs of the
    destination and answers with the report (`syncd schema --audit`)."""
    headers = bearer(token(settings))
    params = {
        "heal": _flag(heal),
        "prune": _flag(prune),
        "allowRemovals": _flag(allow_removals),
    }
    timeout = aiohttp.ClientTimeout(total=patience)
    try:
        async with (
            aiohttp.ClientSession(headers=headers, timeout=timeout) as http,
            http.post(f"{base}/v1/destinations/{name}/audit", params=params) as reply,
        ):
            try:
                body = await reply.json(content_type=None)
            except ValueError:
                body = None
            if reply.status == 404:
                raise await _unknown(http, base, name)
            if reply.status != 200 or not isinstance(body, dict):
                raise _refused(reply.status, body)
            return body
    except (aiohttp.ClientError, OSError) as error:
        raise TemporaryError(
            f"the daemon at {base} stopped answering ({type(error).__name__}); "
            f"see `syncd status {name}`"
        ) from None
    except TimeoutError:
        raise TemporaryError(
            f"the daemon did not finish the audit within {patience:.0f}s; it goes on: "
            f"see `syncd status {name}`"
        ) from None


def _flag(value: bool) -> str:
    return "true" if value else "false"


def bearer(secret: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"} if secret else {}


def error_message(body: Any) -> str | None:
    """The message of the daemon's error document (`{"error": {"message"}}`), if any."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message", error))
    return str(error) if error is not None else None


def _refused(status: int, body: Any) -> PermanentError:
    return PermanentError(f"the daemon refused: {error_message(body) or status}")
