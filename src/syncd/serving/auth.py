"""Who may change something, or see personal data, through the admin server.

Requests that change something (`POST /v1/destinations/{name}/sync`) need
`Authorization: Bearer <token>` whenever a token is configured (SYNCD_ADMIN_TOKEN; a
server beyond loopback cannot start without one). Lifting the removal guard
(`allowRemovals=true`), erasure requests (`POST /v1/forget`: they change data and
concern personal data) and routes that show contacts (`POST /v1/plans`,
`GET /v1/destinations/{name}/contacts/{email}`) need a valid token in every
configuration: without SYNCD_ADMIN_TOKEN, only the host token (`host_token`) the daemon
wrote for the CLI on its own host.

Without SYNCD_ADMIN_TOKEN the server listens on loopback only, but the operator's browser
is on loopback too: a page on another site could post a form to it (a form needs no
CORS), or reach it under a name rebound to 127.0.0.1. So a request that changes
something without a token must name a loopback host (`Host`) and, when it says where it
comes from (`Origin`, which browsers send with every cross-site POST), a loopback one.

Refusals are error documents (`syncd.shapes.ErrorDocument`): `{"error": {"code",
"message"}}`.

Tokens are compared in constant time. A header that is not UTF-8 or holds control
characters is a 400, never an error page. After a wrong token the answer waits
(FAILURE_DELAY, longer for each further failure from the same address while the
previous ones still wait), so guesses from one address go one a second, without
holding any other request; every refusal is counted in
`syncd_admin_auth_failures_total{reason}`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
from dataclasses import dataclass, field

import yarl
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from syncd.allowlists import is_loopback
from syncd.metrics import Metrics
from syncd.shapes import ErrorBody, ErrorDocument

FAILURE_DELAY = 1.0
"""Seconds an answer to a wrong token waits; failures from one address queue up."""
MAX_TRACKED_ADDRESSES = 10_000

REMOVALS_REFUSED = (
    "allowRemovals=true needs a valid token: set SYNCD_ADMIN_TOKEN for the daemon and "
    "send it as Authorization: Bearer <token>, or run `syncd sync NAME --allow-removals` "
    "on the daemon's host"
)
FORGET_REFUSED = (
    "POST /v1/forget needs a valid token: set SYNCD_ADMIN_TOKEN for the daemon and send it "
    "as Authorization: Bearer <token>, or run `syncd forget` on the daemon's host"
)
UNAUTHORIZED = (
    "a valid token (SYNCD_ADMIN_TOKEN) is required, sent as Authorization: Bearer <token>"
)

CROSS_SITE_REFUSED = (
    "without SYNCD_ADMIN_TOKEN, runs are started only from this host by loopback: not from "
    "a page on another site, nor through a name that is not loopback; use the status page "
    "at 127.0.0.1 or the CLI, or set SYNCD_ADMIN_TOKEN"
)
REBOUND_REFUSED = (
    "without SYNCD_ADMIN_TOKEN, this server answers only requests addressed to a loopback "
    "host (127.0.0.1, ::1, localhost): a name that is not loopback leading here is a page "
    "on another site reading it (DNS rebinding); use 127.0.0.1, or set SYNCD_ADMIN_TOKEN"
)
PERSONAL_DATA_REFUSED = (
    "this route shows contacts (personal data) and needs a valid token: set "
    "SYNCD_ADMIN_TOKEN for the daemon and send it as Authorization: Bearer <token>, or ask "
    "from the daemon's host, whose CLI has the host token"
)
CODES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "unknownDestination",
    408: "requestTimeout",
    409: "conflict",
    413: "payloadTooLarge",
    415: "unsupportedMediaType",
    504: "timeout",
}


def _from_elsewhere(request: web.Request) -> bool:
    """A request whose `Host`, or `Origin` when sent, is not loopback (`null` included)."""
    origin = request.headers.get("Origin")
    return not _loopback_url(f"http://{request.host}") or (
        origin is not None and not _loopback_url(origin)
    )


def _loopback_url(url: str) -> bool:
    try:
        host = yarl.URL(url).host
    except (TypeError, ValueError):
        return False
    return host is not None and is_loopback(host)


def problem(status: int, message: str, code: str | None = None) -> web.Response:
    """An error as `shapes.ErrorDocument`: a code to branch on (by default the status's
    usual meaning here), a message to read."""
    body = ErrorDocument(error=ErrorBody(code=code or CODES.get(status, "error"), message=message))
    response = web.json_response(body.wire(), status=status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="syncd"'
    return response


@dataclass
class _Penalties:
    """When each client address may next be answered after a wrong token."""

    delay: float
    until: dict[str, float] = field(default_factory=dict)

    async def wait(self, address: str) -> None:
        now = asyncio.get_running_loop().time()
        if len(self.until) >= MAX_TRACKED_ADDRESSES:
            self.until = {a: t for a, t in self.until.items() if t > now}
        until = max(now, self.until.get(address, 0.0)) + self.delay
        self.until[address] = until
        await asyncio.sleep(until - now)


def rebinding_guard(gate: AdminGate) -> Middleware:
    """Without SYNCD_ADMIN_TOKEN (loopback only), every request must name a loopback host:
    a site whose name an attacker rebinds to 127.0.0.1 would otherwise read the status
    (names, files, errors) from the operator's own browser. With a token, reads stay open
    to whoever reaches the port, as documented."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if gate.token is None and not _loopback_url(f"http://{request.host}"):
            gate.metrics.admin_auth_failures.labels(reason="cross_site").inc()
            return problem(403, REBOUND_REFUSED)
        return await handler(request)

    return guard


class AdminGate:
    """Decides whether a request that changes something may go ahead."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        token: str | None,
        host_token: str | None = None,
        failure_delay: float = FAILURE_DELAY,
    ) -> None:
        self.metrics = metrics
        self.token = token or None
        self.host_token = host_token or None
        self.penalties = _Penalties(failure_delay)

    async def refusal(
        self, request: web.Request, *, removals: bool = False, always: str | None = None
    ) -> web.Response | None:
        """None when the request may go ahead, else the answer that refuses it. With
        `removals`, or `always` (what to say without SYNCD_ADMIN_TOKEN), a token is needed
        in every configuration."""
        always = REMOVALS_REFUSED if removals else always
        if self.token is None and always is None:
            # Loopback only (enforced at start): an ordinary run needs no token, from here.
            if _from_elsewhere(request):
                self.metrics.admin_auth_failures.labels(reason="cross_site").inc()
                return problem(403, CROSS_SITE_REFUSED)
            return None
        return await self._verified(request, always or UNAUTHORIZED)

    async def personal_data_refusal(self, request: web.Request) -> web.Response | None:
        """For routes that show contacts: a valid token whatever the configuration."""
        return await self._verified(request, PERSONAL_DATA_REFUSED)

    async def _verified(self, request: web.Request, without_token: str) -> web.Response | None:
        expected = self.token or self.host_token
        status, why = (401, UNAUTHORIZED) if self.token else (403, without_token)
        header = request.headers.get("Authorization")
        if header is None:
            self.metrics.admin_auth_failures.labels(reason="missing").inc()
            return problem(status, why)
        given = _bearer(header)
        if given is None:
            self.metrics.admin_auth_failures.labels(reason="malformed").inc()
            return problem(400, "malformed Authorization header: send Bearer <token>")
        if expected is None or not hmac.compare_digest(given, expected.encode()):
            self.metrics.admin_auth_failures.labels(reason="invalid").inc()
            await self.penalties.wait(request.remote or "")
            return problem(status, why)
        return None

    async def personal_data(self, request: web.Request) -> int | None:
        """None when the request may see personal data (unmasked addresses), else the HTTP
        status to refuse it with. It takes a valid token in every configuration (the host
        token without SYNCD_ADMIN_TOKEN), as `Bearer <token>`, or as the password of HTTP
        Basic authentication so that a browser can ask the person for it."""
        expected = self.token or self.host_token
        header = request.headers.get("Authorization")
        if header is None:
            self.metrics.admin_auth_failures.labels(reason="missing").inc()
            return 401
        given = _bearer(header)
        if given == b"":
            given = _basic_password(header)
        if given is None:
            self.metrics.admin_auth_failures.labels(reason="malformed").inc()
            return 400
        if expected is None or not hmac.compare_digest(given, expected.encode()):
            self.metrics.admin_auth_failures.labels(reason="invalid").inc()
            await self.penalties.wait(request.remote or "")
            return 401
        return None


def _basic_password(header: str) -> bytes | None:
    """The password of `Basic base64(user:password)`; b"" when the scheme is another."""
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return b""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded.partition(b":")[2]


def _bearer(header: str) -> bytes | None:
    """The credentials of `Bearer <credentials>`; b"" when the scheme is another or missing
    (a wrong token); None when the header is not text at all."""
    try:
        raw = header.encode("utf-8")  # a byte that is not UTF-8 arrives as a lone surrogate
    except UnicodeEncodeError:
        return None
    if any(c < 0x20 or c == 0x7F for c in raw if c != 0x09):
        return None
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return b""
    return credentials.strip().encode("utf-8")
