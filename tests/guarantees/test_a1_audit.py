"""A1: the audit sees what happened to the list behind syncd's back, and heals it when asked.

Required (docs/guarantees.md, row A1): hand removals, hand additions, hand edits of a mapped
field and contacts deleted from the account are each found by the next audit (`syncd audit`
exits 2 and counts them), and `--heal --prune` leaves the list equal to the segment; a
second audit finds nothing. A2: a crash (kill -9) while the audit polls the export, while
it downloads it, or while it heals loses nothing: the restart polls the same export (no
second export is started) and the list ends equal to the segment."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from syncd.emulator import EmulatorConfig
from tests.guarantees.harness import FAILPOINT_EXIT, LIST_ID, Scene, harness_config, record_figure

EXPORT = "POST /v3/marketing/contacts/exports"
NO_SETTLING = {"SYNCD_AUDIT_SETTLE_WINDOW": "0"}


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return harness_config(export_delay=0.5)


async def hand_edits(scene: Scene, *edits: dict[str, Any]) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{scene.emulator.url}/_emulator/hand-edits", json=list(edits)) as reply,
    ):
        assert reply.status == 200, await reply.text()


async def audit(scene: Scene, *flags: str, failpoints: str | None = None) -> Any:
    return await scene.cli("audit", scene.name, *flags, env=scene.env(failpoints, **NO_SETTLING))


def exports(scene: Scene) -> int:
    return [r.template for r in scene.emulator.requests].count(EXPORT)


async def drifted(scene: Scene) -> list[str]:
    """Hand removals, additions, edits and deletions: 3 of each (the strangers are new)."""
    members = sorted(scene.segment.expected())
    await hand_edits(
        scene,
        {"op": "unlist", "list_id": LIST_ID, "emails": members[0:3]},
        {"op": "list", "list_id": LIST_ID, "emails": [f"hand{n}@elsewhere.com" for n in range(3)]},
        {"op": "set_fields", "emails": members[3:6], "fields": {"first_name": "Hand"}},
        {"op": "delete", "emails": members[6:9]},
    )
    return members


@pytest.mark.parametrize("edit", ["unlist", "list", "set_fields", "delete"])
async def test_each_kind_of_hand_change_is_found_and_healed(scene: Scene, edit: str) -> None:
    s = scene
    assert (await s.sync()).code == 0
    members = sorted(s.segment.expected())[:4]
    change: dict[str, Any] = {"op": edit, "emails": members}
    if edit in ("unlist", "list"):
        change["list_id"] = LIST_ID
    if edit == "list":
        change["emails"] = [f"stranger{n}@elsewhere.com" for n in range(4)]
    if edit == "set_fields":
        change["fields"] = {"last_name": "Changed"}
    await hand_edits(s, change)
    found = await audit(s)
    assert found.code == 2, found.describe()
    kind = {"unlist": "missing", "list": "extra", "set_fields": "stale", "delete": "missing"}
    assert f"{kind[edit]:<15}{4:>8,}" in found.out, found.out
    healed = await audit(s, "--heal", "--prune")
    assert healed.code == 2, healed.describe()
    result = await s.audit()
    record_figure("A1", case=edit, **result.figures())
    assert result.lost == []
    assert result.extra == []
    again = await audit(s)
    assert again.code == 0, again.describe()


@pytest.mark.parametrize(
    "failpoint",
    ["audit-polling", "audit-downloading", "after-outbox-commit", "after-202-before-job-commit"],
)
async def test_a_crash_during_an_audit_loses_nothing_and_resumes_the_same_export(
    scene: Scene, failpoint: str
) -> None:
    s = scene
    assert (await s.sync()).code == 0
    await drifted(s)
    crashed = await audit(s, "--heal", "--prune", failpoints=f"{failpoint}=exit")
    assert crashed.code == FAILPOINT_EXIT, crashed.describe()
    started = exports(s)
    assert started == 1
    resumed = await audit(s, "--heal", "--prune")
    assert resumed.code in (0, 2), resumed.describe()
    if failpoint.startswith("audit-"):
        assert exports(s) == 1  # the same export, polled again after the restart
    await s.until_quiet()
    result = await s.audit()
    record_figure("A2", failpoint=failpoint, **result.figures())
    assert result.lost == []
    assert result.extra == []
    final = await audit(s)
    assert final.code == 0, final.describe()
