"""The admin server with a planner over a synced world's ledger, read-only, and the
requests that plan on it (a pytest plugin: `tests/conftest.py`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from syncd.clock import LoopClock
from syncd.emulator import Emulator
from syncd.ledger import open_ledger
from syncd.metrics import Metrics
from syncd.reconciling import Reconciler
from syncd.scheduling import Scheduler
from syncd.serving import AdminGate, Explainer, Listener, Planner, build_app
from tests.fixtures_emulator import TEST_API_KEY
from tests.reconciling.world import World, people, world
from tests.scheduling.fakes import FakeRunner

TOKEN = "admin-token-for-plans"


@pytest.fixture
async def synced(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    monkeypatch.setenv("SENDGRID_API_KEY", TEST_API_KEY)
    async with world(tmp_path, emulator) as w:
        w.destination({"vip": w.csv("vip", people(0, 10))})
        assert (await w.sync()).outcome == "success"
        yield w


Serve = Callable[..., Any]


@pytest.fixture
async def serve(synced: World) -> AsyncIterator[Serve]:
    """Starts the admin server with a planner over the world's ledger, read-only."""
    started: list[tuple[Listener, Any, Scheduler]] = []

    async def start(*, token: str | None = TOKEN, plan_timeout: float = 60, **planner: Any) -> str:
        metrics = Metrics()
        settings = synced.settings.model_copy(update={"plan_timeout": plan_timeout})
        reader = open_ledger(settings.state, writer=False)
        http = aiohttp.ClientSession()
        reconciler = Reconciler(reader, http, settings, metrics)
        plans = Planner(reconciler, settings, **planner)
        explainer = Explainer(reconciler, settings)
        scheduler = Scheduler(
            FakeRunner(), metrics, LoopClock(), max_concurrent_runs=1, backoff_max=60
        )
        gate = AdminGate(metrics, token=token, host_token=None if token else "host-token")
        app = build_app(
            scheduler,
            metrics,
            _ready,
            gate=gate,
            ledger=reader,
            planner=plans,
            explainer=explainer,
        )
        listener = Listener(app, "127.0.0.1", 0, name="admin", refused=metrics.connections_refused)
        await listener.start()
        started.append((listener, http, scheduler))
        return f"http://127.0.0.1:{listener.port}/v1/plans"

    yield start
    for listener, http, scheduler in started:
        await listener.stop()
        await http.close()
        await scheduler.shutdown(grace=1)


async def _ready() -> None:
    return None


def member_file(w: World, **spec: Any) -> str:
    """The world's destination file, changed by `spec` (as its pull request would)."""
    document = yaml.safe_load((w.destinations / "members.yaml").read_text())
    document["spec"].update(spec)
    return yaml.safe_dump(document)


async def post(
    url: str,
    files: dict[str, str] | None = None,
    *,
    token: str | None = TOKEN,
    query: str = "",
    body: Any = None,
    removed: list[str] | None = None,
    **request: Any,
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers |= request.pop("headers", {})
    if body is None:
        body = {"files": [{"name": n, "content": c} for n, c in (files or {}).items()]}
        if removed is not None:
            body["removed"] = removed
    async with aiohttp.ClientSession() as http:
        options = {"data": body} if isinstance(body, bytes | str) else {"json": body}
        async with http.post(url + query, headers=headers, **options, **request) as reply:
            return reply.status, await reply.json(content_type=None)


async def get(url: str, *, token: str | None = TOKEN) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as reply:
        return reply.status, await reply.json(content_type=None)


async def post_when_free(url: str, files: dict[str, str]) -> tuple[int, Any]:
    """The answer to the first plan not refused as busy: an earlier plan, answered or
    not, holds its destinations and its slot until its dry run has ended."""
    async with asyncio.timeout(30):
        while True:
            status, answer = await post(url, files)
            if status not in (409, 429):
                return status, answer
            await asyncio.sleep(0.05)
