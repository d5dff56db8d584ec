"""A source that cannot be read whole fails its run before the diff: nobody is removed."""

from __future__ import annotations

from tests.reconciling.world import World, emails, people


async def test_a_stray_quote_fails_the_run_naming_its_line_and_removes_nobody(
    sync_world: World,
) -> None:
    w = sync_world
    rows = people(0, 2000)
    w.destination({"vip": w.csv("vip", rows)})
    assert (await w.sync()).outcome == "success"
    assert w.members() == emails(rows)
    writes = len(w.emulator.write_requests())

    path = w.data / "vip.csv"
    lines = path.read_text().splitlines(keepends=True)
    lines[1700] = lines[1700].replace(",First", ',"First', 1)  # data row 1,700, line 1,701
    path.write_text("".join(lines))
    report = await w.sync()

    assert report.outcome == "permanent"
    assert report.error is not None
    assert report.error.startswith("csv vip.csv: the row starting on line 1701 opens a quoted")
    assert w.members() == emails(rows)
    assert len(w.emulator.write_requests()) == writes  # not even an upsert
