"""`POST /v1/forget` in process, over a real socket: who may ask, what a request must hold,
and what the answer says (never the address)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from syncd.clock import LoopClock
from syncd.errors import LedgerUnavailable
from syncd.ledger import Erased
from syncd.ledger.sqlite import SqliteLedger
from syncd.metrics import Metrics
from syncd.reconciling.forgetting import ForgetRefused, ForgetReport, ForgetRequest
from syncd.scheduling import Scheduler
from syncd.serving import AdminGate, Listener, build_app
from tests.scheduling.fakes import FakeRunner, destination

pytestmark = pytest.mark.looptime

TOKEN = "admin-token-for-tests"
HOST_TOKEN = "host-token-for-tests"
ADDRESS = "ann@example.com"


async def ready() -> None:
    return None


class Asked:
    """Stands in for the daemon's forget: records what it was asked, answers as told."""

    def __init__(self) -> None:
        self.requests: list[ForgetRequest] = []
        self.raises: Exception | None = None

    async def __call__(self, request: ForgetRequest) -> ForgetReport:
        self.requests.append(request)
        if self.raises is not None:
            raise self.raises
        return ForgetReport(False, None, True, erased=[Erased("members", acknowledged=1)])


@pytest.fixture
async def scheduler(tmp_path: Path) -> AsyncIterator[Scheduler]:
    built = Scheduler(FakeRunner(), Metrics(), LoopClock(), max_concurrent_runs=2, backoff_max=60)
    await built.apply({"members": destination(tmp_path, "members")})
    yield built
    await built.shutdown(grace=5)


@pytest.fixture
def asked() -> Asked:
    return Asked()


async def served(scheduler: Scheduler, asked: Asked, token: str | None) -> Listener:
    metrics = Metrics()
    gate = AdminGate(metrics, token=token, host_token=HOST_TOKEN, failure_delay=0.01)
    nothing_recorded = SqliteLedger(Path("no-ledger-here.db"), writer=False)
    app = build_app(scheduler, metrics, ready, gate=gate, ledger=nothing_recorded, forgetting=asked)
    listener = Listener(app, "127.0.0.1", 0, name="admin", refused=metrics.connections_refused)
    await listener.start()
    return listener


async def post(listener: Listener, body: Any, token: str | None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"http://127.0.0.1:{listener.port}/v1/forget"
    async with aiohttp.ClientSession() as http, http.post(url, json=body, headers=headers) as r:
        return r.status, await r.json(content_type=None)


@pytest.mark.parametrize(
    ("configured", "sent", "status"),
    [
        (TOKEN, None, 401),
        (TOKEN, "wrong", 401),
        (TOKEN, HOST_TOKEN, 401),  # with SYNCD_ADMIN_TOKEN set, only that one
        (None, None, 403),  # loopback without a token: still refused
        (None, "wrong", 403),
        (TOKEN, TOKEN, 200),
        (None, HOST_TOKEN, 200),
    ],
)
async def test_a_valid_token_is_needed_in_every_configuration(
    scheduler: Scheduler, asked: Asked, configured: str | None, sent: str | None, status: int
) -> None:
    listener = await served(scheduler, asked, configured)
    try:
        code, body = await post(listener, {"email": ADDRESS}, sent)
    finally:
        await listener.stop()
    assert code == status, body
    assert len(asked.requests) == (1 if status == 200 else 0)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("ann@example.com", "send an object"),
        ({}, "email (text) is required"),
        ({"email": 7}, "email (text) is required"),
        ({"email": ADDRESS, "destination": ["a"]}, "destination must be text"),
        ({"email": ADDRESS, "undo": "yes"}, "undo must be true or false"),
        ({"email": ADDRESS, "everywhere": True}, "unknown field(s) everywhere"),
    ],
)
async def test_a_malformed_request_is_refused_naming_what_is_wrong(
    scheduler: Scheduler, asked: Asked, body: Any, why: str
) -> None:
    listener = await served(scheduler, asked, TOKEN)
    try:
        code, answer = await post(listener, body, TOKEN)
    finally:
        await listener.stop()
    assert code == 400
    assert why in answer["error"]
    assert asked.requests == []


async def test_the_request_reaches_the_daemon_and_the_answer_never_carries_the_address(
    scheduler: Scheduler, asked: Asked
) -> None:
    listener = await served(scheduler, asked, TOKEN)
    try:
        body = {"email": ADDRESS, "destination": "members", "deleteInSendgrid": True}
        code, answer = await post(listener, body, TOKEN)
        asked.raises = ForgetRefused(f"no destination named 'x' ({ADDRESS})", status=404)
        refused, refusal = await post(listener, body, TOKEN)
        asked.raises = LedgerUnavailable("ledger busy")
        failed, _ = await post(listener, body, TOKEN)
    finally:
        await listener.stop()
    assert code == 200
    assert asked.requests[0] == ForgetRequest(ADDRESS, "members", True, False)
    assert answer["destinations"][0]["acknowledged"] == 1
    assert ADDRESS not in str(answer)
    assert (refused, failed) == (404, 503)
    assert ADDRESS not in refusal["error"]  # answers pass the scrubber
