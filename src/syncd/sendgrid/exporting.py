"""Contact exports: start one for a list, poll it, download its files (for the audit).

SendGrid builds an export in the background (`POST /v3/marketing/contacts/exports`, then
`GET .../exports/{id}` until `ready` or `failure`, for a bounded time: the spec names no
other status and says nothing of how long `pending` lasts) and hands out `urls`, one per file. The
URLs are SendGrid's answer, so untrusted input: only https ones are fetched (plain http
only to a loopback host, and only when the API itself is on one: the emulator), and the
API key is never sent with them (SendGrid's are pre-signed storage URLs; a key sent there
would leak). Files are streamed to a sink in chunks, and a download larger than the cap
fails instead of filling the disk. Logs and errors never show a URL: a pre-signed URL is a
credential for the file.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Literal

import aiohttp
import orjson
import yarl

from syncd.allowlists import is_loopback
from syncd.errors import SendGridUnavailable
from syncd.sendgrid import answers
from syncd.sendgrid.http import SendGridHttp
from syncd.sendgrid.replies import excerpt

EXPORTS = "/v3/marketing/contacts/exports"
EP_EXPORT = "POST /v3/marketing/contacts/exports"
EP_EXPORT_STATUS = "GET /v3/marketing/contacts/exports/{id}"
EP_EXPORT_FILE = "GET export file"
CHUNK = 256 * 1024
FIRST_PAUSE = 0.1
STOP_CHECK = 0.25
"""Seconds between two looks at `stopping` while waiting for an export."""
MAX_URLS = 10_000

ExportStatus = Literal["pending", "ready", "failure"]


class ExportStopped(SendGridUnavailable):
    """A stop ended the wait; the export id is kept and polled again after the restart."""


class ExportUnusable(SendGridUnavailable):
    """The export is not to be read again: failed, never ready, incomplete, a download
    broken off (its links expire), a file cut short or corrupt or with an endless line.
    The audit forgets its id, so that the next one starts another."""


class ExportGone(SendGridUnavailable):
    """SendGrid no longer knows the export (expired): a new one must be started."""


@dataclass(frozen=True)
class ExportState:
    id: str
    status: ExportStatus
    urls: tuple[str, ...] = ()
    message: str = ""
    contact_count: int | None = None
    """How many contacts SendGrid says the files hold (None when a ready export does not
    say: the spec makes it optional)."""


MIN_DOWNLOAD_RATE = 32 * 1024
"""Bytes a second an export file must average once the request timeout has passed: each
read waits at most that timeout, but a server sending a byte a second would otherwise
hold the audit, and the destination's runs behind it, for ever."""


class Exports:
    """The export endpoints, over the client's HTTP (pacing, retries, the key)."""

    def __init__(self, http: SendGridHttp) -> None:
        self.http = http

    async def start(self, list_id: str) -> str:
        body = orjson.dumps({"list_ids": [list_id], "file_type": "csv"})
        reply = await self.http.call("POST", EP_EXPORT, EXPORTS, body=body, expected=(200, 202))
        return answers.path_id(answers.json_object(reply.data, EP_EXPORT).get("id"), EP_EXPORT)

    async def state(self, export_id: str) -> ExportState | None:
        """The export now, or None when SendGrid does not know it (expired, never made)."""
        reply = await self.http.call(
            "GET", EP_EXPORT_STATUS, f"{EXPORTS}/{export_id}", tolerated=(404,)
        )
        if reply.status == 404:
            return None
        data = reply.data
        if not isinstance(data, dict):
            # Not SendGrid forgetting the export: an answer syncd cannot read (a proxy's
            # page, a body cut off). The export may be fine, so its id is kept.
            raise SendGridUnavailable(
                f"{EP_EXPORT_STATUS}: SendGrid's answer about the audit's export was "
                "unreadable (not a JSON object); the next audit asks again"
            )
        status = data.get("status")
        if status == "ready":
            urls = data.get("urls")
            if not isinstance(urls, list) or len(urls) > MAX_URLS:
                # Polled again, it would answer the same: taken as failed, so that the next
                # audit starts another export instead of reading this one again all day.
                why = "SendGrid called the export ready without a usable list of file URLs"
                return ExportState(export_id, "failure", message=why)
            urls_given = tuple(str(u) for u in urls)
            counted = answers.said_count(data, "contact_count")
            return ExportState(export_id, "ready", urls_given, contact_count=counted)
        if status == "failure":
            message = data.get("message")
            return ExportState(export_id, "failure", message=str(message or "")[:300])
        if status == "pending":
            return ExportState(export_id, "pending")
        # The spec allows pending, ready and failure only. Another status (`failed`, none)
        # is not waited on: were it final, the audit, and the destination's runs behind
        # it, would wait for nothing; were it a new kind of pending, failing names it.
        shown = excerpt(None, repr(status))[:60]
        why = f"its status was {shown}, which SendGrid does not document"
        return ExportState(export_id, "failure", message=why)

    async def wait(
        self,
        export_id: str,
        *,
        max_interval: float,
        within: float,
        stopping: Callable[[], bool],
    ) -> ExportState:
        """Poll until the export is ready or failed, pausing longer each time (up to
        `max_interval`), for `within` seconds at most: then its last state, still pending
        (the caller decides what giving up means). It is polled at least once, and once
        more when the time is up; a stop ends the wait at once (`ExportStopped`)."""
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + within
        pause = FIRST_PAUSE
        while True:
            state = await self.state(export_id)
            if state is None:
                raise ExportGone("SendGrid no longer knows the audit's export")
            left = give_up_at - loop.time()
            if state.status != "pending" or left <= 0:
                return state
            await _pause(min(pause, left), stopping)
            pause = min(max_interval, pause * 2)

    async def download(self, url: str, sink: BinaryIO, *, budget: int) -> int:
        """Stream one file into `sink`; returns its size. Fails (temporary) beyond `budget`
        bytes, on a URL that may not be fetched, or when the download breaks off."""
        problem = download_problem(url, self.http.base_url)
        if problem:
            raise SendGridUnavailable(f"{EP_EXPORT_FILE}: an export URL {problem}; not fetched")
        size = 0
        loop = asyncio.get_running_loop()
        started = loop.time()
        grace = self.http.timeout.total or 60.0
        try:
            # No Authorization header: the URL is pre-signed, the key is not its business.
            async with self.http.session.get(
                url,
                headers={"User-Agent": "syncd"},
                timeout=aiohttp.ClientTimeout(total=None, sock_read=self.http.timeout.total),
                allow_redirects=False,
            ) as response:
                if response.status != 200:
                    raise SendGridUnavailable(
                        f"{EP_EXPORT_FILE}: answered {response.status} for an export file"
                    )
                async for chunk in response.content.iter_chunked(CHUNK):
                    size += len(chunk)
                    if size > budget:
                        raise SendGridUnavailable(
                            f"{EP_EXPORT_FILE}: the export is larger than "
                            "SYNCD_AUDIT_MAX_DOWNLOAD_BYTES; not read"
                        )
                    sink.write(chunk)  # a local file: quicker than a thread hop a chunk
                    elapsed = loop.time() - started
                    if elapsed > grace and size < MIN_DOWNLOAD_RATE * elapsed:
                        raise SendGridUnavailable(
                            f"{EP_EXPORT_FILE}: an export file came slower than "
                            f"{MIN_DOWNLOAD_RATE // 1024} KiB/s; the next audit tries again"
                        )
        except (aiohttp.ClientError, TimeoutError) as error:
            raise SendGridUnavailable(
                f"{EP_EXPORT_FILE}: the download of an export file failed ({type(error).__name__})"
            ) from None
        return size


async def _pause(seconds: float, stopping: Callable[[], bool]) -> None:
    """Sleep `seconds`, looking at `stopping` every `STOP_CHECK` or so."""
    slices = max(1, math.ceil(seconds / STOP_CHECK))
    for _ in range(slices):
        if stopping():
            raise ExportStopped("stopping: the export is polled again after the restart")
        await asyncio.sleep(seconds / slices)


def download_problem(url: str, base_url: str) -> str | None:
    """Why an export URL may not be fetched, or None: https only, or plain http to a
    loopback host when the API itself is on one (the emulator)."""
    try:
        parsed = yarl.URL(url)
    except (TypeError, ValueError):
        return "is not a URL"
    if not parsed.is_absolute() or not parsed.host:
        return "has no host"
    if parsed.user is not None or parsed.password is not None:
        return "holds a user name or password"
    if parsed.scheme == "https":
        return None
    base = yarl.URL(base_url)
    if parsed.scheme == "http" and is_loopback(parsed.host) and is_loopback(base.host or ""):
        return None
    return "is not https"
