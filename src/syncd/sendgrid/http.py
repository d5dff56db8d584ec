"""One SendGrid request, done right: auth, pacing, retries, and errors that say what to fix.

Retried: connection errors, timeouts and 5xx (capped exponential backoff with
full jitter), 429 (after `X-RateLimit-Reset`), 401 once (the key is re-read, in
case it was rotated). Not retried: other 4xx, which become `SendGridRejected`
with a message naming the fix.
"""

from __future__ import annotations

import asyncio
import email.utils
import io
import math
import random
import time
from collections.abc import Callable, Collection, Mapping

import aiohttp
from multidict import CIMultiDictProxy

from syncd import failpoints
from syncd.allowlists import same_origin
from syncd.errors import SendGridRejected, SendGridUnavailable
from syncd.logs import get_logger
from syncd.metrics import Metrics
from syncd.sendgrid.ratelimit import RateGate
from syncd.sendgrid.replies import Reply, excerpt, read_reply

log = get_logger("syncd.sendgrid")

MAX_ATTEMPTS = 5
MAX_RATE_LIMITED = 30
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
# After a 429 the next request waits at least this long, doubling with each 429 in a row:
# a reset in the past (clock skew) must not turn into a burst of immediate retries.
RATE_LIMITED_FLOOR = 1.0
RATE_LIMITED_FLOOR_CAP = 60.0


class _StreamedBody(io.BytesIO):
    """A request body as aiohttp streams it: read in chunks, each written out before the next.

    Reading past the first chunk means the request has started going out: the failpoint
    `mid-request-body` fires there, once per attempt. A crash at that point leaves SendGrid
    with a cut body (or, for a body of one chunk, a whole one and no answer read).
    """

    _streaming = False

    def read(self, size: int | None = -1, /) -> bytes:
        if not self._streaming and self.tell():
            self._streaming = True
            failpoints.hit("mid-request-body")
        return super().read(size)


class SendGridHttp:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        api_key: Callable[[], str],
        gate: RateGate,
        metrics: Metrics,
        *,
        key_hint: str,
        timeout: float = 60.0,
        max_attempts: int = MAX_ATTEMPTS,
        on_reply: Callable[[str, Reply], None] | None = None,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._key = api_key()
        self.key_hint = key_hint
        self.gate = gate
        self.metrics = metrics
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.max_attempts = max_attempts
        self.on_reply = on_reply
        """Sees every answer with its endpoint, whatever its status (`syncd probe` notes the
        header spelling)."""

    async def call(
        self,
        method: str,
        endpoint: str,
        path: str,
        *,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
        expected: Collection[int] = (200, 201, 202, 204),
        tolerated: Collection[int] = (),
        url: str | None = None,
    ) -> Reply:
        """Send until it succeeds, fails for good, or the retries run out.

        `tolerated` statuses (e.g. 404 for a lookup) are returned, not raised.
        `url` replaces base+path for absolute links SendGrid hands out (no key sent unless
        on the API's own origin; redirects not followed).
        """
        failures = 0
        rate_limited = 0
        key_refreshed = False
        while True:
            waited = await self.gate.acquire(endpoint)
            if waited:
                self.metrics.rate_limit_wait.labels(endpoint=endpoint).inc(waited)
            try:
                reply = await self._send(
                    method,
                    endpoint,
                    url or self.base_url + path,
                    body,
                    params,
                )
            except (aiohttp.ClientError, TimeoutError) as error:
                failures += 1
                reason = type(error).__name__
                self.metrics.sendgrid_requests.labels(endpoint=endpoint, code="0").inc()
                if failures >= self.max_attempts:
                    raise SendGridUnavailable(
                        f"{endpoint}: no answer from SendGrid after {failures} attempts "
                        f"({reason}); is {self.base_url} reachable?"
                    ) from None
                await self._backoff(endpoint, failures, reason)
                continue
            if self.on_reply is not None:
                self.on_reply(endpoint, reply)
            status = reply.status
            if status in expected or status in tolerated:
                return reply
            if status == 429:
                rate_limited += 1
                announced = come_back_at(reply.headers, self.gate.clock.now())
                floor = min(RATE_LIMITED_FLOOR_CAP, RATE_LIMITED_FLOOR * 2 ** (rate_limited - 1))
                wanted = max(announced or 0.0, self.gate.clock.now() + floor)
                reset_at = self.gate.exhausted(endpoint, wanted)
                if rate_limited >= MAX_RATE_LIMITED:
                    raise SendGridUnavailable(
                        f"{endpoint}: still rate-limited after {rate_limited} waits",
                        retry_after=max(0.0, reset_at - self.gate.clock.now()) or None,
                    )
                log.info(
                    "sendgrid.rate_limited",
                    endpoint=endpoint,
                    reset_at=reset_at,
                    announced_reset_at=announced,
                )
                continue
            if status >= 500:
                failures += 1
                if failures >= self.max_attempts:
                    raise SendGridUnavailable(
                        f"{endpoint}: SendGrid answered {status} {failures} times: "
                        f"{excerpt(reply.data, reply.text)}"
                    )
                await self._backoff(endpoint, failures, f"HTTP {status}")
                continue
            if status == 401 and not key_refreshed and url is None:
                key_refreshed = True
                self._key = self._api_key()
                continue
            raise self._rejected(endpoint, reply)

    async def _send(
        self,
        method: str,
        endpoint: str,
        url: str,
        body: bytes | None,
        params: Mapping[str, str] | None,
    ) -> Reply:
        headers = {"Accept": "application/json", "User-Agent": "syncd"}
        if same_origin(url, self.base_url):  # never a download link on another origin
            headers["Authorization"] = f"Bearer {self._key}"
        if body is not None:
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        code = "0"
        try:
            # A file-like body is streamed; raw bytes over 1 MB would block the loop.
            payload = _StreamedBody(body) if body is not None else None
            # No redirect is followed: it would take the request (a body of contacts, for
            # an API call) where no check was made. SendGrid's API does not redirect; a
            # link it handed out is checked before it is fetched.
            async with self.session.request(
                method,
                url,
                data=payload,
                params=params,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            ) as response:
                code = str(response.status)
                reply = await read_reply(response, endpoint)
                remaining = self.gate.observe(endpoint, reply.headers)
                if remaining is not None:
                    self.metrics.rate_limit_remaining.labels(endpoint=endpoint).set(remaining)
                return reply
        finally:
            if code != "0":
                self.metrics.sendgrid_requests.labels(endpoint=endpoint, code=code).inc()
            self.metrics.sendgrid_request_duration.labels(endpoint=endpoint).observe(
                time.perf_counter() - started
            )

    async def _backoff(self, endpoint: str, failures: int, reason: str) -> None:
        pause = random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**failures))
        log.info("sendgrid.retry", endpoint=endpoint, attempt=failures, reason=reason, pause=pause)
        await asyncio.sleep(pause)

    def _rejected(self, endpoint: str, reply: Reply) -> SendGridRejected:
        detail = excerpt(reply.data, reply.text)
        status = reply.status
        if status == 401:
            message = (
                f"SendGrid refused the API key (401 Unauthorized) on {endpoint}: the key from "
                f"{self.key_hint} is wrong, expired or revoked; put a valid key there"
            )
        elif status == 403:
            message = (
                f"the API key from {self.key_hint} may not call {endpoint} (403 Forbidden): "
                "give it Marketing access (marketing.read and marketing_campaigns "
                "create/update/delete)"
            )
        elif 300 <= status < 400:
            message = (
                f"{endpoint} answered a redirect ({status}), which syncd does not follow (the "
                f"request would go where it was not checked): is {self.base_url} SendGrid's "
                "API address?"
            )
        else:
            message = f"SendGrid rejected {endpoint} ({status}): {detail or 'no details'}"
        return SendGridRejected(message, status=status, excerpt=detail)


def come_back_at(headers: CIMultiDictProxy[str], now: float) -> float | None:
    """When a 429 says to come back: SendGrid's `X-RateLimit-Reset` (epoch seconds), else
    a `Retry-After` (seconds, or an HTTP date), which proxies in front of it send."""
    try:
        reset = float(headers["X-RateLimit-Reset"])
    except (KeyError, ValueError):
        reset = math.inf
    return reset if math.isfinite(reset) else _retry_after(headers.get("Retry-After"), now)


def _retry_after(value: str | None, now: float) -> float | None:
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit() and len(value) <= 9:
        return now + int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.timestamp() if when.tzinfo is not None else None
