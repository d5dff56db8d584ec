"""A plan whose source read ignores its stop signal (a hung driver) outlives its 504: it
keeps its destination busy and its slot until the read ends, and never holds a thread of
the loop's executor, which the daemon's runs, metrics and health checks share."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import aiohttp
import pytest

from syncd.sources.base import Row
from syncd.sources.sqlite import SqliteQuery
from tests.reconciling.world import World
from tests.serving.plan_server import Serve, member_file, post, post_when_free


@pytest.fixture
def hung(synced: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """A SQLite source whose read waits, deaf to the stop signal, until the event is set."""
    release = threading.Event()

    def rows(self: SqliteQuery, columns: Sequence[str]) -> Iterator[Row]:
        release.wait(60)  # a bound, so that a broken test still ends
        yield from ()

    monkeypatch.setattr(SqliteQuery, "rows", rows)
    sqlite3.connect(synced.data / "hung.db").close()
    yield release
    release.set()


def hung_file(w: World) -> dict[str, str]:
    source = {"sqlite": {"path": "../data/hung.db", "query": "SELECT 1"}}
    return {"members.yaml": member_file(w, segments=[{"name": "hung", "source": source}])}


async def test_a_plan_past_its_time_limit_keeps_its_destination_busy_until_its_read_ends(
    synced: World, serve: Serve, hung: threading.Event
) -> None:
    url = await serve(plan_timeout=0.3)
    files = hung_file(synced)
    status, answer = await post(url, files)
    assert (status, answer["error"]["code"]) == (504, "planTimeout")
    status, answer = await post(url, files)  # the first one's read still runs
    assert (status, answer["error"]["code"]) == (409, "planInProgress")
    hung.set()
    status, answer = await post_when_free(url, files)
    assert status == 200, answer


async def test_plans_whose_reads_hang_never_take_the_daemons_threads(
    synced: World, serve: Serve, hung: threading.Event
) -> None:
    # The loop's executor with one thread left: a plan's read there would take it, and
    # /metrics (rendered in it) would hang, as runs and health checks did.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=1))
    url = await serve(plan_timeout=0.3, max_running=1)
    status, answer = await post(url, hung_file(synced))
    assert (status, answer["error"]["code"]) == (504, "planTimeout")
    metrics_url = url.removesuffix("/v1/plans") + "/metrics"
    async with (
        aiohttp.ClientSession() as http,
        asyncio.timeout(10),
        http.get(metrics_url) as reply,
    ):
        assert reply.status == 200
    status, answer = await post(url, {"other.yaml": "x: 1"})  # the one slot is held
    assert (status, answer["error"]["code"]) == (429, "tooManyPlans")
    hung.set()
    status, answer = await post_when_free(url, {"other.yaml": "x: 1"})
    assert status == 200, answer
