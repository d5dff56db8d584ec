"""D8: the ledger is lost (a new volume, a deleted file) after a successful sync.

Required (docs/guarantees.md, row D8): one full, idempotent re-send of the segment, after
which the list equals the segment and syncd is quiet again. What the ledger alone knew is
gone with it: which contacts syncd had put on the list. Contacts that left the segment while
the ledger was lost therefore stay on the list until an audit with `prune` reads the real
list back (`syncd audit NAME --heal --prune`): then the list equals the segment (the second
test)."""

from __future__ import annotations

import pytest

from tests.guarantees.harness import Scene, record_figure


def lose_the_ledger(scene: Scene) -> None:
    for leftover in scene.state.parent.glob(f"{scene.state.name}*"):
        leftover.unlink()


@pytest.fixture
def scene_size() -> int:
    return 500


@pytest.mark.slow
async def test_a_lost_ledger_costs_one_full_idempotent_resend(scene: Scene) -> None:
    s = scene
    first = await s.sync()
    assert first.code == 0, first.describe()
    lose_the_ledger(s)
    assert not s.state.exists()

    again = await s.sync()
    assert again.code == 0, again.describe()
    runs = await s.until_quiet()
    result = await s.audit()
    record_figure("D8", quiet_after_runs=len(runs), **result.figures())
    assert result.unnecessary == 500  # everyone sent once more: the fingerprints were lost
    assert len(result.unnecessary_requests) == 1  # in one batch, once
    assert result.lost == []
    assert result.extra == []
    assert len(runs) == 1  # and quiet again at once


@pytest.mark.slow
async def test_contacts_that_left_while_the_ledger_was_lost_are_taken_off_the_list(
    scene: Scene,
) -> None:
    s = scene
    assert (await s.sync()).code == 0
    lose_the_ledger(s)
    s.segment.remove(20)
    s.segment.write()
    await s.until_quiet()  # the segment re-sent once (the first test counts it)
    left = await s.audit()
    assert len(left.extra) == 20  # the sync alone cannot know them
    writes = len(s.emulator.write_requests())
    audit = await s.cli(
        "audit", s.name, "--heal", "--prune", env=s.env(SYNCD_AUDIT_SETTLE_WINDOW="0")
    )
    assert audit.code == 2, audit.describe()  # drift found, and healed
    assert "20 taken off the list" in audit.out
    removals = s.emulator.write_requests()[writes:]
    assert {r.template for r in removals} == {"DELETE /v3/marketing/lists/{id}/contacts"}
    result = await s.audit()
    record_figure("D8", case="left while the ledger was lost", **result.figures())
    assert result.extra == []
    assert result.lost == []
    again = await s.cli("audit", s.name, env=s.env(SYNCD_AUDIT_SETTLE_WINDOW="0"))
    assert again.code == 0, again.describe()
