"""Staging only what differs when the segment is read from a database: its rows are
spilled as the verify read goes, and staged from the spill, never read twice."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import pytest
from structlog.testing import capture_logs

from syncd.emulator import running_emulator
from syncd.reconciling import reading, scanning
from syncd.reconciling.spill import Spill
from syncd.reconciling.staging import verify_segments
from tests.fixtures_emulator import strict_emulator_config
from tests.reconciling.differing_world import (
    changed_one,
    mixed,
    outcome,
    three_left,
    twice_new_first,
)
from tests.reconciling.world import World, people, world


@pytest.mark.parametrize("change", [changed_one, three_left, mixed, twice_new_first])
async def test_a_warehouse_segment_is_read_once_and_stages_only_what_differs(
    sync_world: World, tmp_path_factory: pytest.TempPathFactory, change: Any
) -> None:
    async def run(w: World) -> tuple[Any, Any, list[MutableMapping[str, Any]]]:
        rows = people(0, 40)
        w.destination({"vip": w.sqlite("vip", rows)})
        assert (await w.sync()).outcome == "success"
        with capture_logs() as logs:
            same = await w.sync()
        w.sqlite("vip", change([dict(r) for r in rows]))
        with capture_logs() as more:
            changed = await w.sync()
        return same, changed, [e for e in [*logs, *more] if e["event"] == "reading.differing"]

    same, partly, differing = await run(sync_world)
    assert (same.outcome, same.read, same.counts()["upserted"]) == ("success", "verified", 0)
    async with (
        running_emulator(strict_emulator_config()) as other,
        world(tmp_path_factory.mktemp("full"), other) as full_world,
    ):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(reading, "MAX_DIFFERING", -1)
            patch.setattr(reading, "Spill", lambda: Spill(0))
            _, fully, none = await run(full_world)
        assert none == []
        assert outcome(partly) == outcome(fully)
        assert sync_world.members() == full_world.members()
    if change is not twice_new_first:
        assert len(differing) == 1


async def test_a_warehouse_segment_too_large_to_spill_is_staged_whole(
    sync_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = sync_world
    rows = people(0, 20)
    w.destination({"vip": w.sqlite("vip", rows)})
    await w.sync()
    monkeypatch.setattr(reading, "SPILLED_ROW_BYTES", 1 << 40)
    report = await w.sync()
    assert (report.read, report.counts()["unchanged"]) == ("staged", 20)


async def test_most_buckets_differing_stage_every_row_from_the_spill(
    sync_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A source is not read twice: past MAX_DIFFERING, every bucket is staged from the spill.
    w = sync_world
    rows = people(0, 30)
    w.destination({"vip": w.sqlite("vip", rows)})
    await w.sync()
    monkeypatch.setattr(reading, "MAX_DIFFERING", 0)
    reads = 0
    real = verify_segments

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(scanning, "verify_segments", counted)
    monkeypatch.setattr(reading, "stage_segments", lambda *a, **k: pytest.fail("read again"))
    changed = [dict(r, FirstName="New") for r in rows]
    w.sqlite("vip", changed)
    with capture_logs() as logs:
        report = await w.sync()
    assert report.outcome == "success", report.error
    assert reads == 1
    assert report.counts()["upserted"] == 30
    assert [e["buckets"] for e in logs if e["event"] == "reading.differing"] == [65_536]
