"""D4: ambiguous outcomes: a request SendGrid applied but whose answer syncd never got.

Two kinds: the connection is reset after SendGrid applied the request (the emulator's
`reset_after_apply`), and the client gives up waiting (`SYNCD_HTTP_TIMEOUT` below a
`delay`). syncd cannot tell "applied" from "not applied", keeps the batch prepared and
sends it again: harmless, upserts and list removals are idempotent. Required (guarantees.md, D4):
0 lost; at most one redundant send per ambiguous request.

aiohttp itself re-sends an idempotent request (PUT, DELETE) once when a kept-alive
connection drops, so a reset needs `times: 2` before syncd sees an error; that re-send
is aiohttp's, and it is ambiguous too (its answer is dropped as well), so the figure
counts it among the ambiguous requests on the wire.
"""

from __future__ import annotations

import asyncio

import pytest

from syncd.emulator import FaultRule
from tests.guarantees.harness import REMOVE, UPSERT, Scene, record_figure


def dropped(scene: Scene) -> int:
    """Requests SendGrid handled whose answer never reached syncd (connection reset)."""
    return sum(1 for r in scene.emulator.requests if r.status is None)


@pytest.mark.slow
async def test_requests_applied_then_cut_off_are_resent_at_most_once_each(scene: Scene) -> None:
    s = scene
    s.emulator.faults.add(FaultRule(kind="reset_after_apply", template=UPSERT, times=2))
    first = await s.sync()
    assert first.code == 0, first.describe()

    s.segment.churn(changes=10, removes=10)
    s.segment.write()
    s.emulator.faults.add(FaultRule(kind="reset_after_apply", template=UPSERT, times=2))
    s.emulator.faults.add(FaultRule(kind="reset_after_apply", template=REMOVE, times=2))
    second = await s.sync()
    assert second.code == 0, second.describe()
    runs = await s.until_quiet()
    result = await s.audit()

    ambiguous = dropped(s)
    syncd_resends = sum(
        1
        for run in (first, second, *runs)
        for event in run.events("sendgrid.retry")
        if event.get("endpoint") in (UPSERT, "DELETE /v3/marketing/lists/{id}/contacts")
    )
    record_figure(
        "D4",
        case="reset after apply",
        ambiguous_requests=ambiguous,
        syncd_resends=syncd_resends,
        redundant_per_ambiguous=len(result.redundant_requests) / ambiguous,
        **result.figures(),
    )
    assert ambiguous == 6  # 3 batches, each: (syncd's attempt + aiohttp's own re-send)
    assert syncd_resends == 3  # syncd re-sent each ambiguous batch once
    assert result.lost == []
    assert result.extra == []
    assert len(result.redundant_requests) <= ambiguous
    assert result.unnecessary == 0


@pytest.mark.slow
async def test_a_request_that_timed_out_is_resent_once(scene: Scene) -> None:
    s = scene
    s.emulator.faults.add(FaultRule(kind="delay", template=UPSERT, seconds=1.5, times=1))
    done = await s.sync(SYNCD_HTTP_TIMEOUT="0.5")
    assert done.code == 0, done.describe()
    (timed_out,) = [e for e in done.events("sendgrid.retry") if e.get("endpoint") == UPSERT]
    assert timed_out["reason"] == "TimeoutError"
    async with asyncio.timeout(10):  # SendGrid's side of the abandoned request ends meanwhile
        while not any(r.fault == "delay" for r in s.emulator.requests):
            await asyncio.sleep(0.05)
    runs = await s.until_quiet()
    result = await s.audit()
    abandoned = [r for r in s.emulator.requests if r.fault == "delay"]
    record_figure(
        "D4",
        case="client timeout",
        ambiguous_requests=len(abandoned),
        abandoned_request_applied=any(r.job_id for r in abandoned),
        quiet_after_runs=len(runs),
        **result.figures(),
    )
    # The emulator reads a body only after the delay, so the abandoned request is never
    # applied there: syncd's re-send is the one that counts, and it is not redundant.
    assert [r.job_id for r in abandoned] == [None]
    assert result.lost == []
    assert result.extra == []
    assert len(result.redundant_requests) <= len(abandoned)
    assert result.send_requests == 1
    assert result.unnecessary == 0
