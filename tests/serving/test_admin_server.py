"""The admin server in process, over real sockets, on fake loop time: who may change
something, how long a wrong token waits, and the limits no client outlasts."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from syncd.clock import LoopClock
from syncd.ledger.sqlite import SqliteLedger
from syncd.metrics import Metrics
from syncd.scheduling import Scheduler
from syncd.serving import AdminGate, Listener, build_app, build_metrics_app
from syncd.serving.listening import HEAD_TIMEOUT, MAX_CONNECTIONS
from tests.scheduling.fakes import FakeRunner, destination

pytestmark = pytest.mark.looptime

TOKEN = "admin-token-for-tests"
SYNC = "/v1/destinations/members/sync"
SHOWN = "/destinations/members?showEmails=true"


async def ready() -> None:
    return None


@pytest.fixture
async def scheduler(tmp_path: Path) -> AsyncIterator[Scheduler]:
    built = Scheduler(FakeRunner(), Metrics(), LoopClock(), max_concurrent_runs=2, backoff_max=60)
    await built.apply({"members": destination(tmp_path, "members")})
    yield built
    await built.shutdown(grace=5)


async def serve(
    scheduler: Scheduler,
    metrics: Metrics,
    *,
    token: str | None,
    max_connections: int = MAX_CONNECTIONS,
) -> Listener:
    gate = AdminGate(metrics, token=token, host_token="host-token-for-tests" if not token else None)
    nothing_recorded = SqliteLedger(Path("no-ledger-here.db"), writer=False)
    app = build_app(scheduler, metrics, ready, gate=gate, ledger=nothing_recorded)
    listener = Listener(
        app,
        "127.0.0.1",
        0,
        name="admin",
        refused=metrics.connections_refused,
        max_connections=max_connections,
    )
    await listener.start()
    return listener


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
async def admin(scheduler: Scheduler, metrics: Metrics) -> AsyncIterator[Listener]:
    listener = await serve(scheduler, metrics, token=TOKEN)
    yield listener
    await listener.stop()


def url(listener: Listener, path: str) -> str:
    return f"http://127.0.0.1:{listener.port}{path}"


async def timed_post(
    http: aiohttp.ClientSession, listener: Listener, path: str, authorization: str | None
) -> tuple[int, float]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with http.post(url(listener, path), headers=headers) as reply:
        await reply.read()
        return reply.status, round(loop.time() - started, 1)


async def test_wrong_tokens_from_one_address_wait_in_turn_without_holding_anyone_else(
    admin: Listener, metrics: Metrics
) -> None:
    async with aiohttp.ClientSession() as http:
        answers = await asyncio.gather(
            timed_post(http, admin, SYNC, "Bearer wrong-1"),
            timed_post(http, admin, SYNC, "Bearer wrong-2"),
            timed_post(http, admin, SYNC, "Bearer wrong-3"),
            timed_post(http, admin, SYNC, f"Bearer {TOKEN}"),
            timed_post(http, admin, SYNC, None),
        )
        async with http.get(url(admin, "/healthz")) as health:
            assert health.status == 200

    *wrong, right, missing = answers
    assert sorted(wrong) == [(401, 1.0), (401, 2.0), (401, 3.0)]
    assert right == (202, 0.0)
    assert missing == (401, 0.0)  # no guess was made: nothing to slow down
    failures = metrics.admin_auth_failures
    assert failures.labels(reason="invalid")._value.get() == 3
    assert failures.labels(reason="missing")._value.get() == 1


async def test_the_bearer_prefix_is_required_and_a_header_that_is_not_text_is_a_400(
    admin: Listener, metrics: Metrics
) -> None:
    async with aiohttp.ClientSession() as http:
        bare = await timed_post(http, admin, SYNC, TOKEN)
        lower = await timed_post(http, admin, SYNC, f"bearer {TOKEN}")
    reader, writer = await asyncio.open_connection("127.0.0.1", admin.port)
    writer.write(
        b"POST " + SYNC.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
        b"Authorization: Bearer \xff\xfe\x80token\r\n\r\n"
    )
    raw = await reader.read(4096)
    writer.close()

    assert bare == (401, 1.0)
    assert lower == (202, 0.0)  # the scheme is case-insensitive (RFC 9110)
    assert raw.startswith(b"HTTP/1.1 400 "), raw
    assert b"Traceback" not in raw
    assert metrics.admin_auth_failures.labels(reason="malformed")._value.get() == 1


async def test_without_a_configured_token_removals_need_the_host_token(
    scheduler: Scheduler, metrics: Metrics
) -> None:
    listener = await serve(scheduler, metrics, token=None)
    try:
        async with aiohttp.ClientSession() as http:
            plain = await timed_post(http, listener, SYNC, None)
            anonymous = await timed_post(http, listener, SYNC + "?allowRemovals=true", None)
            guessed = await timed_post(http, listener, SYNC + "?allowRemovals=1", "Bearer x")
            host = await timed_post(
                http, listener, SYNC + "?allowRemovals=true", "Bearer host-token-for-tests"
            )
    finally:
        await listener.stop()

    assert plain == (202, 0.0)
    assert anonymous == (403, 0.0)
    assert guessed == (403, 1.0)
    assert host == (202, 0.0)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 202),  # the CLI, curl on the host
        ({"Origin": "http://127.0.0.1:9108"}, 202),  # the status page's own form
        ({"Origin": "http://localhost:9108", "Host": "localhost:9108"}, 202),
        ({"Origin": "https://evil.example"}, 403),  # a form posted from another site
        ({"Origin": "null"}, 403),  # a sandboxed frame, a file
        ({"Host": "rebound.example:9108"}, 403),  # a name rebound to 127.0.0.1
        ({"Host": "rebound.example:9108", "Origin": "http://rebound.example:9108"}, 403),
    ],
)
async def test_without_a_token_runs_start_only_from_loopback_never_from_another_site(
    scheduler: Scheduler, metrics: Metrics, headers: dict[str, str], status: int
) -> None:
    listener = await serve(scheduler, metrics, token=None)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(url(listener, SYNC), headers=headers) as reply,
        ):
            got, body = reply.status, await reply.json()
    finally:
        await listener.stop()

    assert got == status, body
    if status == 403:
        assert body["error"]["message"].startswith("without SYNCD_ADMIN_TOKEN, ")
        assert metrics.admin_auth_failures.labels(reason="cross_site")._value.get() == 1


@pytest.mark.parametrize("path", ["/v1/destinations", "/", "/metrics", "/v1/info"])
@pytest.mark.parametrize(
    ("host", "token", "status"),
    [
        ("rebound.example:9108", None, 403),  # a site's name rebound to 127.0.0.1
        ("127.0.0.1:9108", None, 200),
        ("localhost:9108", None, 200),
        ("syncd.internal:9108", "a-token", 200),  # with a token, reads stay open
    ],
)
async def test_without_a_token_reads_answer_only_requests_to_a_loopback_name(
    scheduler: Scheduler, metrics: Metrics, path: str, host: str, token: str | None, status: int
) -> None:
    # Only changes were checked: a page on a rebound name read the whole status (names,
    # files, digests, errors) from the operator's browser.
    listener = await serve(scheduler, metrics, token=token)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(url(listener, path), headers={"Host": host}) as reply,
        ):
            got, body = reply.status, await reply.text()
    finally:
        await listener.stop()

    assert got == status, body
    if status == 403:
        assert "DNS rebinding" in body


async def closed_by_server(reader: asyncio.StreamReader) -> float:
    """Seconds until the server closes a connection that sent nothing more."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        while await reader.read(4096):
            pass
    except ConnectionResetError:  # closed while the client was still writing
        pass
    return loop.time() - started


async def test_a_connection_that_never_finishes_its_head_is_closed_after_the_timeout(
    admin: Listener,
) -> None:
    idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", admin.port)
    slow_reader, slow_writer = await asyncio.open_connection("127.0.0.1", admin.port)

    async def trickle() -> None:
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\n":
            slow_writer.write(bytes([byte]))
            await asyncio.sleep(0.5)

    trickling = asyncio.create_task(trickle())
    try:
        idle, slow = await asyncio.gather(
            closed_by_server(idle_reader), closed_by_server(slow_reader)
        )
    finally:
        trickling.cancel()
        idle_writer.close()
        slow_writer.close()
    assert HEAD_TIMEOUT <= idle < HEAD_TIMEOUT + 1
    assert HEAD_TIMEOUT <= slow < HEAD_TIMEOUT + 1


async def test_connections_over_the_limit_are_refused_and_the_idle_ones_freed(
    scheduler: Scheduler, metrics: Metrics
) -> None:
    listener = await serve(scheduler, metrics, token=TOKEN, max_connections=3)
    try:
        idle = [await asyncio.open_connection("127.0.0.1", listener.port) for _ in range(3)]
        reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
        refused = await reader.read()
        writer.close()
        await asyncio.sleep(HEAD_TIMEOUT + 1)  # the idle ones are closed: room again
        async with aiohttp.ClientSession() as http, http.get(url(listener, "/healthz")) as reply:
            status = reply.status
    finally:
        for _, idle_writer in idle:
            idle_writer.close()
        await listener.stop()

    assert refused.startswith(b"HTTP/1.1 503 ")
    assert metrics.connections_refused.labels(listener="admin")._value.get() == 1
    assert status == 200


async def test_the_metrics_listener_serves_metrics_and_health_only(metrics: Metrics) -> None:
    listener = Listener(
        build_metrics_app(metrics, ready),
        "127.0.0.1",
        0,
        name="metrics",
        refused=metrics.connections_refused,
    )
    await listener.start()
    try:
        async with aiohttp.ClientSession() as http:
            codes = {}
            for path in ("/metrics", "/healthz", "/readyz", "/v1/destinations"):
                async with http.get(url(listener, path)) as reply:
                    codes[path] = reply.status
            async with http.post(url(listener, SYNC)) as reply:
                codes["POST sync"] = reply.status
    finally:
        await listener.stop()

    assert codes == {
        "/metrics": 200,
        "/healthz": 200,
        "/readyz": 200,
        "/v1/destinations": 404,
        "POST sync": 404,
    }


async def test_addresses_on_a_page_need_a_valid_token_as_bearer_or_basic_password(
    admin: Listener, metrics: Metrics
) -> None:
    page = "/destinations/members?showEmails=true"
    basic = "Basic " + base64.b64encode(f"anyone:{TOKEN}".encode()).decode()
    async with aiohttp.ClientSession() as http:
        async with http.get(url(admin, page)) as anonymous:
            challenge = anonymous.headers.get("WWW-Authenticate", "")
            refused = anonymous.status
        async with http.get(url(admin, "/destinations/members")) as masked:
            assert masked.status == 200
        wrong = await timed_get(http, admin, page, "Bearer wrong")
        bearer = await timed_get(http, admin, page, f"Bearer {TOKEN}")
        password = await timed_get(http, admin, page, basic)

    assert (refused, challenge.split(" ")[0]) == (401, "Basic")
    assert wrong == (401, 1.0)
    assert bearer == (200, 0.0)
    assert password == (200, 0.0)
    assert metrics.admin_auth_failures.labels(reason="missing")._value.get() == 1


async def timed_get(
    http: aiohttp.ClientSession, listener: Listener, path: str, authorization: str
) -> tuple[int, float]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with http.get(url(listener, path), headers={"Authorization": authorization}) as reply:
        await reply.read()
        return reply.status, round(loop.time() - started, 1)


async def test_only_the_status_pages_reload_themselves_never_an_error_page(
    admin: Listener,
) -> None:
    # The 401 page reloaded every 15 s, bringing the browser's password prompt back.
    async with aiohttp.ClientSession() as http:
        reloads = {}
        for path in ("/", "/destinations/members", "/destinations/nope", SHOWN):
            async with http.get(url(admin, path)) as reply:
                reloads[path, reply.status] = "location.reload" in await reply.text()
    assert reloads == {
        ("/", 200): True,
        ("/destinations/members", 200): True,
        ("/destinations/nope", 404): False,
        (SHOWN, 401): False,
    }


async def test_an_api_path_without_its_route_or_method_answers_the_json_error_document(
    admin: Listener,
) -> None:
    # `GET .../sync` answered aiohttp's plain text `405: Method Not Allowed`.
    async with aiohttp.ClientSession() as http:
        async with http.get(url(admin, SYNC)) as wrong_method:
            method = (wrong_method.status, wrong_method.headers["Allow"], await wrong_method.json())
        async with http.get(url(admin, "/v1/nowhere")) as no_route:
            route = (no_route.status, await no_route.json())
        async with http.get(url(admin, "/nowhere")) as no_page:
            page = (no_page.status, no_page.content_type)
    assert method == (
        405,
        "POST",
        {
            "schemaVersion": "syncd/v1",
            "error": {
                "code": "methodNotAllowed",
                "message": f"GET is not allowed on {SYNC}; use POST",
            },
        },
    )
    assert route == (
        404,
        {
            "schemaVersion": "syncd/v1",
            "error": {"code": "notFound", "message": "no API route /v1/nowhere"},
        },
    )
    assert page == (404, "text/plain")  # not the API: aiohttp's answer stays
