"""Staging only the buckets whose rows differ (`staging.stage_differing`), against staging
everything: each scenario's run must come out as a fully staged run would, whichever way
the reader took. The full way is forced by making every bucket count as differing. A
segment read from a database (spilled, never read twice) is in
`test_differing_warehouse.py`."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from structlog.testing import capture_logs

from syncd.emulator import running_emulator
from syncd.ledger import open_ledger
from syncd.ledger.digests import DigestState
from syncd.reconciling import differing as differing_module
from syncd.reconciling import reading, scanning
from syncd.reconciling.differing import stage_differing
from syncd.reconciling.spill import MAX_BYTES, Spill
from tests.fixtures_emulator import strict_emulator_config
from tests.reconciling.differing_world import (
    SCENARIOS,
    changed_one,
    five_joined,
    ledger_file,
    mixed,
    not_scanned,
    outcome,
    synced_then,
    synced_then_again,
    three_left,
    twice_new_first,
    twice_old_first,
)
from tests.reconciling.world import World, emails, people, world


@pytest.mark.parametrize("way", ["scanned", "spilled", "read-again", "scanned-unmatched"])
@pytest.mark.parametrize("change", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
async def test_staging_the_differing_buckets_runs_as_staging_everything(
    sync_world: World,
    tmp_path_factory: pytest.TempPathFactory,
    change: Any,
    way: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Plain files are scanned; otherwise their rows are spilled, or with no room to spill,
    # the differing rows are read from the source again. Past MATCH_LIMIT, scanned rows are
    # staged by bucket, not matched print by print.
    if way == "scanned-unmatched":
        monkeypatch.setattr(differing_module, "MATCH_LIMIT", -1)
    elif way != "scanned":
        monkeypatch.setattr(scanning, "scan_segments", not_scanned)
        monkeypatch.setattr(reading, "Spill", lambda: Spill(MAX_BYTES if way == "spilled" else 0))
    partly, differing = await synced_then(sync_world, change)
    assert partly.outcome == "success", partly.error
    async with (
        running_emulator(strict_emulator_config()) as other,
        world(tmp_path_factory.mktemp("full"), other) as full_world,
    ):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(reading, "MAX_DIFFERING", -1)  # every bucket is too many
            patch.setattr(reading, "Spill", lambda: Spill(0))  # and nothing spilled
            patch.setattr(scanning, "scan_segments", not_scanned)  # nor scanned
            fully, none = await synced_then(full_world, change)
        assert none == []
        assert outcome(partly) == outcome(fully)
        assert sync_world.members() == full_world.members()
    if change not in (twice_old_first, twice_new_first):
        assert len(differing) == 1  # the partial way was taken


@pytest.mark.parametrize("way", ["scanned", "spilled"])
async def test_unchanged_rows_of_a_differing_bucket_are_not_staged(
    sync_world: World, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    # 3,000 rows share some of the 65,536 buckets. A changed row and a leaver, each with an
    # unchanged neighbour in its bucket: only the changed row is staged (its neighbours'
    # prints match acknowledged ones), and nothing but the two changes is sent.
    if way == "spilled":
        monkeypatch.setattr(scanning, "scan_segments", not_scanned)
    w = sync_world
    rows = people(0, 3_000)
    w.destination({"vip": w.csv("vip", rows)})
    assert (await w.sync()).outcome == "success"
    with ledger_file(w) as db:
        acked = db.execute("SELECT email, raw FROM acked").fetchall()
    by_bucket: dict[int, list[str]] = {}
    for email, raw in acked:
        by_bucket.setdefault(raw & 0xFFFF, []).append(email)
    shared = [sorted(e) for e in by_bucket.values() if len(e) > 1]
    assert len(shared) >= 2
    number = {f"person.{n}@example.com": n for n in range(3_000)}
    changed, leaver = number[shared[0][0]], number[shared[1][0]]
    rows[changed]["FirstName"] = "Changed"
    w.csv("vip", [r for n, r in enumerate(rows) if n != leaver])
    report, differing = await synced_then_again(w)
    counts = report.counts()
    assert (counts["upserted"], counts["removed"], counts["unchanged"]) == (1, 1, 2_998)
    assert counts["profiles"] == 2_999
    assert [(e["buckets"] >= 3, e["rows"]) for e in differing] == [(True, 1)]
    assert w.members() == emails(rows) - {shared[1][0]}
    held = w.emulator.state.contact(shared[0][0])
    assert held is not None
    assert held["first_name"] == "Changed"


async def test_an_address_in_two_buckets_stages_everything(sync_world: World) -> None:
    report, differing = await synced_then(sync_world, twice_old_first)
    assert differing == []  # the partial staging gave way
    assert report.counts()["upserted"] == 0
    assert report.read == "staged"


async def test_rows_acknowledged_under_another_binding_stage_everything(
    sync_world: World,
) -> None:
    w = sync_world
    rows = people(0, 20)
    w.destination({"vip": w.csv("vip", rows)})
    await w.sync()
    with ledger_file(w) as db:
        db.execute("UPDATE acked SET binding = binding + 1 WHERE email = 'person.1@example.com'")
    rows[2]["FirstName"] = "Changed"
    w.csv("vip", rows)
    with capture_logs() as logs:
        report = await w.sync()
    assert report.outcome == "success", report.error
    assert [e for e in logs if e["event"] == "reading.differing"] == []
    assert report.counts()["upserted"] == 2  # person.2 changed; person.1 sent under this binding


async def test_a_leaver_back_in_an_unchanged_bucket_starts_afresh(sync_world: World) -> None:
    # person.5 left earlier and its removal was not confirmed yet; it is back, unchanged, in
    # a bucket the scoped snapshot does not stage: its removal state must still be cleared
    # (as it is when the next leavers are looked at).
    w = sync_world
    rows = people(0, 40)
    w.destination({"vip": w.csv("vip", rows)})
    assert (await w.sync()).outcome == "success"
    with ledger_file(w) as db:
        db.execute(
            "INSERT INTO removals (destination, email, first_missed_at, sent_at, sends)"
            " VALUES ('members', 'person.5@example.com', 1.0, 2.0, 1)"
        )
    w.csv("vip", three_left(changed_one(rows)))  # leavers: removal states are looked at
    with capture_logs() as logs:
        report = await w.sync()
    assert report.outcome == "success", report.error
    assert len([e for e in logs if e["event"] == "reading.differing"]) == 1
    counts = report.counts()
    assert (counts["profiles"], counts["unchanged"], counts["removed"]) == (37, 36, 3)
    with ledger_file(w) as db:
        assert db.execute("SELECT email FROM removals").fetchall() == []


async def test_prints_of_an_older_syncd_are_replaced_without_sending_anything(
    sync_world: World,
) -> None:
    # Before CSV records were printed by their line, their prints were those of their
    # values: after the upgrade every print differs once. Nothing may be sent for that,
    # and the next change must again stage only what differs.
    w = sync_world
    rows = people(0, 40)
    w.destination({"vip": w.csv("vip", rows)})
    assert (await w.sync()).outcome == "success"
    with ledger_file(w) as db:
        db.execute("UPDATE acked SET raw = raw + 1")
    w.csv("vip", changed_one(rows))
    upgraded = await w.sync()
    assert upgraded.outcome == "success", upgraded.error
    assert (upgraded.counts()["upserted"], upgraded.counts()["unchanged"]) == (1, 39)
    rows[7]["LastName"] = "Changed"
    w.csv("vip", changed_one(rows))
    report, differing = await synced_then_again(w)
    assert report.counts()["upserted"] == 1
    assert [e["buckets"] <= 4 for e in differing] == [True]  # the row's old and new buckets


@pytest.mark.parametrize(
    ("change", "scoped_first"), [(three_left, True), (five_joined, False), (mixed, False)]
)
async def test_the_leavers_are_scoped_while_the_rows_are_read(
    sync_world: World, monkeypatch: pytest.MonkeyPatch, change: Any, scoped_first: bool
) -> None:
    # More acknowledged contacts unmatched than the staged rows can name: some left, and
    # the scope's pass over `acked` runs in another thread while the rows are read. Else
    # (here: more rows joined than left) it runs after staging, only if still needed.
    threads: list[str] = []
    scope_leavers = DigestState.scope_leavers

    def spied(self: DigestState, unmatched: Any) -> None:
        threads.append(threading.current_thread().name)
        scope_leavers(self, unmatched)

    monkeypatch.setattr(DigestState, "scope_leavers", spied)
    report, differing = await synced_then(sync_world, change)
    assert report.outcome == "success", report.error
    assert len(differing) == 1
    assert [name.startswith("syncd-scope") for name in threads] == [True] * scoped_first
    assert sync_world.members() == emails(change(people(0, 40)))


async def test_a_failed_pass_for_the_leavers_fails_the_run_even_with_nothing_to_stage(
    sync_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three left, nothing changed: no row is staged, so nothing waits on the scope's
    # thread while rows are read; its failure must still end the run, not leave the
    # leavers out of the scope (taken for present, never removed, the run "successful").
    def failing(self: DigestState, unmatched: Any) -> None:
        raise RuntimeError("the ledger's disk went away")

    monkeypatch.setattr(DigestState, "scope_leavers", failing)
    report, _ = await synced_then(sync_world, three_left)
    assert report.outcome != "success"
    assert "the ledger's disk went away" in (report.error or "")
    assert sync_world.members() == emails(people(0, 40))  # nobody removed


@pytest.mark.postgres
@pytest.mark.parametrize(("change", "sent"), [(mixed, (6, 3, 36)), (three_left, (0, 3, 37))])
async def test_staging_the_differing_buckets_on_a_postgresql_ledger(
    sync_world: World, postgres_dsn: str, change: Any, sent: tuple[int, int, int]
) -> None:
    w = sync_world
    w.ledger.close()
    w.ledger = open_ledger(postgres_dsn)
    w.settings = w.settings.model_copy(update={"state": postgres_dsn})
    report, differing = await synced_then(w, change)
    assert report.outcome == "success", report.error
    assert len(differing) == 1
    counts = report.counts()
    assert (counts["upserted"], counts["removed"], counts["unchanged"]) == sent
    assert w.members() == emails(change(people(0, 40)))


async def test_files_rewritten_between_the_two_reads_are_staged_whole(
    sync_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read again (nothing spilled), the files must still be the bytes whose buckets were
    # summed: a row changed meanwhile in a bucket not staged would be missed, and one that
    # moved out of its bucket taken for a leaver and removed.
    w = sync_world
    rows = people(0, 40)
    w.destination({"vip": w.csv("vip", rows)})
    assert (await w.sync()).outcome == "success"
    monkeypatch.setattr(reading, "Spill", lambda: Spill(0))
    later = [dict(r) for r in rows]
    for n in range(10):  # changed again, into buckets the first read did not see differ
        later[n]["FirstName"] = f"Later{n}"

    def rewritten_first(*args: Any, **kwargs: Any) -> Any:
        w.csv("vip", later)
        return stage_differing(*args, **kwargs)

    monkeypatch.setattr(reading, "stage_differing", rewritten_first)
    first_change = [dict(r) for r in rows]
    for n in range(10):
        first_change[n]["FirstName"] = f"Sooner{n}"
    w.csv("vip", first_change)
    with capture_logs() as logs:
        report = await w.sync()
    assert report.outcome == "success", report.error
    assert [e for e in logs if e["event"] == "reading.differing"] == []  # gave way
    assert report.counts()["removed"] == 0
    assert w.members() == emails(rows)
    for n in range(10):
        held = w.emulator.state.contact(f"person.{n}@example.com")
        assert held is not None
        assert held["first_name"] == f"Later{n}"
