"""A source that cannot be read whole (malformed, or written while read) fails its run before
the diff: nobody is removed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from syncd.errors import SourceUnavailable
from syncd.sources.base import RowSource
from syncd.sources.csvfile import CsvFile
from syncd.sources.jsonl import JsonLinesFile
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


MAIN, EXTRA = people(0, 90), people(90, 10)
"""A destination of two segments: the second a tenth of the list, under the guard's 20 %."""


async def synced_with_extra(w: World, kind: str = "jsonl") -> None:
    """MAIN from a CSV file and EXTRA from a `kind` source, synced."""
    write = {"csv": w.csv, "jsonl": w.jsonl, "sqlite": w.sqlite}[kind]
    w.destination({"main": w.csv("main", MAIN), "extra": write("extra", EXTRA)})
    assert (await w.sync()).outcome == "success"


async def test_a_segment_re_encoded_so_that_no_line_reads_removes_nobody(
    sync_world: World,
) -> None:
    # A JSON Lines segment re-exported in UTF-16 (no mark): every line a rejected row, its
    # ten contacts removed under the guard's 20 %, and the run a success.
    w = sync_world
    await synced_with_extra(w)
    writes = len(w.emulator.write_requests())
    path = w.data / "extra.jsonl"
    path.write_bytes(path.read_text().encode("utf-16-le"))

    report = await w.sync()

    assert report.outcome == "permanent"
    assert report.error is not None
    assert report.error.startswith("jsonl extra.jsonl: no line is a usable JSON object")
    assert w.members() == emails(MAIN + EXTRA)
    assert len(w.emulator.write_requests()) == writes


def writer_midway(path: Path, rewrite: bytes, *, after_calls: int) -> Callable[[], bool]:
    """A `stopping` signal (asked once a chunk as a file is read) that never stops, but
    writes `rewrite` over the file in place at its `after_calls`-th call: a writer that
    opened the file with truncation while syncd was reading it."""
    calls = 0

    def stopping() -> bool:
        nonlocal calls
        calls += 1
        if calls == after_calls:
            with path.open("wb") as handle:  # truncated, then written: in place
                handle.write(rewrite)
        return False

    return stopping


@pytest.mark.parametrize(
    ("kind", "cut"),
    [("csv", "truncated"), ("csv", "appended"), ("jsonl", "truncated"), ("jsonl", "appended")],
)
def test_a_file_written_in_place_while_read_is_unavailable_not_short(
    tmp_path: Path, kind: str, cut: str
) -> None:
    """Cut short, its rows after the cut would have counted as leavers; grown, its new rows
    would have been missed while the file's print says they were read."""
    lines = [f"person.{n}@example.com" for n in range(20_000)]
    if kind == "csv":
        whole = ("Email\n" + "\n".join(lines) + "\n").encode()
    else:
        whole = "".join(json.dumps({"Email": e}) + "\n" for e in lines).encode()
    path = tmp_path / f"members.{kind}"
    path.write_bytes(whole)
    rewrite = whole[: len(whole) // 3] if cut == "truncated" else whole + whole[-40:]
    stopping = writer_midway(path, rewrite, after_calls=3)
    source: RowSource = (
        CsvFile(path, stopping=stopping)
        if kind == "csv"
        else JsonLinesFile(path, stopping=stopping)
    )

    with pytest.raises(SourceUnavailable) as caught:
        for _ in source.rows(["Email"]):
            pass
    assert "changed while syncd read it" in caught.value.message
    assert "rename it over the old one" in caught.value.message


def test_a_file_read_whole_while_nothing_writes_it_passes(tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text("Email\n" + "".join(f"p{n}@example.com\n" for n in range(20_000)))
    assert sum(1 for _ in CsvFile(path, stopping=lambda: False).rows(["Email"])) == 20_000


async def test_a_run_that_meets_a_file_being_written_removes_nobody(sync_world: World) -> None:
    w = sync_world
    rows = people(0, 2000)
    w.destination({"vip": w.csv("vip", rows)})
    assert (await w.sync()).outcome == "success"
    writes = len(w.emulator.write_requests())
    path = w.data / "vip.csv"
    header, _, body = path.read_bytes().partition(b"\n")
    path.write_bytes(header + b"\n" + body.replace(b",First", b",Second"))  # the run reads it
    changed = header + b"\n" + body.replace(b",First", b",Third")  # written in place meanwhile

    report = await w.sync(stopping=writer_midway(path, changed[: len(changed) // 2], after_calls=2))

    assert report.outcome == "temporary", report.error
    assert report.error is not None
    assert "csv vip.csv: changed while syncd read it" in report.error
    assert w.members() == emails(rows)
    assert len(w.emulator.write_requests()) == writes  # nothing compared, nothing sent
    path.write_bytes(changed)  # the writer done
    assert (await w.sync()).outcome == "success"
    assert w.members() == emails(rows)


@pytest.mark.parametrize("kind", ["csv", "jsonl", "sqlite"])
async def test_one_segment_of_several_come_back_empty_holds_its_leavers_back(
    sync_world: World, kind: str
) -> None:
    # An export cut short after its header (or a blank line, or a table reloaded): its
    # ten contacts are 10 % of the list, under maxRemovalFraction, and were removed.
    w = sync_world
    await synced_with_extra(w, kind)
    if kind == "jsonl":
        (w.data / "extra.jsonl").write_text("\n")  # a segment of nobody, as it is written
    else:
        {"csv": w.csv, "sqlite": w.sqlite}[kind]("extra", [])

    held = await w.sync()

    assert held.outcome == "guard", held.error
    assert held.guard is not None
    assert held.guard.guard == "emptySegment"
    assert "segment(s) came back empty: extra (10 rows before)" in held.guard.message
    assert w.members() == emails(MAIN + EXTRA)  # nobody removed
    assert (await w.sync()).outcome == "guard"  # held until confirmed
    allowed = await w.sync(allow_removals=True)
    assert allowed.outcome == "success", allowed.error
    assert allowed.counts()["gone"] == 10
    assert (await w.sync()).outcome == "success"  # empty now, as confirmed: no guard


async def test_a_segment_none_of_whose_rows_has_an_address_removes_nobody(
    sync_world: World,
) -> None:
    # JSON Lines re-exported with the key spelled otherwise (`email`, the mapping says
    # `EmailAddress`): every line "email is empty", and its contacts removed under the
    # guard's fraction, while a CSV file without the column is refused.
    w = sync_world
    await synced_with_extra(w)
    renamed = [{"email" if k == "EmailAddress" else k: v for k, v in r.items()} for r in EXTRA]
    w.jsonl("extra", renamed)

    report = await w.sync()

    assert report.outcome == "permanent"
    assert report.error == (
        "segment extra: none of its 10 rows has an address in 'EmailAddress' (names are "
        "matched exactly); is it the mapping's column?"
    )
    assert w.members() == emails(MAIN + EXTRA)


async def test_a_csv_segment_whose_address_column_is_blank_removes_nobody(
    sync_world: World,
) -> None:
    # Every segment a plain CSV file: read from the files' bytes, the rows without an
    # address were refused one by one, and the segment's contacts removed.
    w = sync_world
    await synced_with_extra(w, "csv")
    w.csv("extra", [{**row, "EmailAddress": ""} for row in EXTRA])

    report = await w.sync()

    assert report.outcome == "permanent", report.error
    assert report.error == (
        "segment extra: none of its 10 rows has an address in 'EmailAddress' (names are "
        "matched exactly); is it the mapping's column?"
    )
    assert w.members() == emails(MAIN + EXTRA)


SPOILED: dict[str, tuple[Callable[[str], str], str | None]] = {
    # An unmapped column as Python's json.dumps writes a float NaN: read as it is.
    "nan-unmapped": (lambda line: line[:-1] + ', "score": NaN}', None),
    # A mapped value an array, or its key written twice: the field refuses the row.
    "array": (
        lambda line: re.sub(r'"FirstName": "[^"]*"', '"FirstName": ["A", "B"]', line),
        "first_name holds more than one value",
    ),
    "key-twice": (lambda line: line[:-1] + ', "FirstName": "Again"}', "first_name holds more"),
}


@pytest.mark.parametrize("spoiled", SPOILED)
async def test_a_json_lines_value_that_is_not_one_value_keeps_its_contact_listed(
    sync_world: World, spoiled: str
) -> None:
    # Each made the line "not valid JSON" or "not a scalar", its address unknown: its
    # contact, listed, was taken for a leaver and removed (under the guard's 20 %).
    spoil, reason = SPOILED[spoiled]
    w = sync_world
    await synced_with_extra(w)
    path = w.data / "extra.jsonl"
    lines = path.read_text().splitlines()
    lines[3] = spoil(lines[3])
    path.write_text("\n".join(lines) + "\n")

    report = await w.sync()

    assert report.outcome == "success"
    assert w.members() == emails(MAIN + EXTRA)
    assert report.applied.removed == 0
    refused = [(r.segment, r.row, r.reason[: len(reason or "")]) for r in report.not_carried_out]
    assert refused == ([] if reason is None else [("extra", 4, reason)])
