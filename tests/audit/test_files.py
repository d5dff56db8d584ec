"""Export files as SendGrid may shape them: gzip'd or not, CSV with any header case, JSON."""

from __future__ import annotations

import csv
import gzip
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from syncd.contacts import ContactBuilder
from syncd.destinations import Mapping
from syncd.errors import SendGridUnavailable
from syncd.reconciling.auditing.export_rows import FileCounts
from syncd.reconciling.auditing.files import export_prints, read_export_file
from syncd.sendgrid import ExportUnusable
from syncd.sendgrid.exporting import download_problem
from syncd.sources.csvfile import MAX_FIELD_CHARS
from syncd.sources.lines import MAX_LINE_BYTES

UPPER = (
    "EMAIL,FIRST_NAME,LAST_NAME,ALTERNATE_EMAILS,LIST_IDS,CONTACT_ID,CREATED_AT,loyalty_tier\n"
    'Ann@Example.com,Ann,Lee,,"l1,l2",c-1,2026-01-01T00:00:00Z,gold\n'
    "bob@example.com,Bob,,,l1,c-2,2026-01-01T00:00:00Z,\n"
    ",Nobody,,,l1,c-3,,\n"
)


def write(path: Path, text: str, *, gzipped: bool) -> Path:
    data = text.encode()
    path.write_bytes(gzip.compress(data) if gzipped else data)
    return path


def read(path: Path) -> tuple[list[tuple[str, str, dict[str, object]]], FileCounts]:
    counts = FileCounts()
    rows = [(h.email, h.contact_id, json.loads(h.fields)) for h in read_export_file(path, counts)]
    return rows, counts


@pytest.mark.parametrize("gzipped", [True, False])
@pytest.mark.parametrize("case", ["upper", "lower"])
def test_csv_gzip_or_plain_with_upper_or_lower_case_headers(
    tmp_path: Path, gzipped: bool, case: str
) -> None:
    header, _, body = UPPER.partition("\n")
    if case == "lower":
        header = header.lower()
    # The name says nothing: the bytes tell gzip from plain.
    path = write(tmp_path / "export-1.csv", f"{header}\n{body}", gzipped=gzipped)
    rows, counts = read(path)
    assert rows == [
        (
            "ann@example.com",
            "c-1",
            {"first_name": "Ann", "last_name": "Lee", "custom_fields": {"loyalty_tier": "gold"}},
        ),
        (
            "bob@example.com",
            "c-2",
            {"first_name": "Bob", "custom_fields": {}},  # blanks left out: they read as blank
        ),
    ]
    assert (counts.files, counts.rows, counts.unreadable) == (1, 3, 1)


def test_custom_field_names_keep_their_case_and_never_shadow_reserved_ones(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path / "f",
        "email,First_Name,Loyalty_Tier,orders\nann@example.com,Ann,Gold,3\n",
        gzipped=False,
    )
    rows, _ = read(path)
    assert rows[0][2] == {
        "first_name": "Ann",
        "custom_fields": {"Loyalty_Tier": "Gold", "orders": "3"},
    }


@pytest.mark.parametrize("gzipped", [True, False])
def test_json_lines(tmp_path: Path, gzipped: bool) -> None:
    lines = [
        {
            "id": "c-1",
            "email": "ANN@example.com",
            "first_name": "Ann",
            "list_ids": ["l1"],
            "custom_fields": {"loyalty_tier": "gold", "orders": 3},
        },
        {"id": "c-2", "first_name": "no email"},
        "not an object",
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\n\n{broken\n"
    rows, counts = read(write(tmp_path / "export.json", text, gzipped=gzipped))
    assert rows == [
        (
            "ann@example.com",
            "c-1",
            {"first_name": "Ann", "custom_fields": {"loyalty_tier": "gold", "orders": 3}},
        )
    ]
    assert (counts.rows, counts.unreadable) == (4, 3)


def test_several_files_are_counted_together(tmp_path: Path) -> None:
    counts = FileCounts()
    found = []
    for number, text in enumerate([UPPER, UPPER.lower()]):
        path = write(tmp_path / f"{number}", text, gzipped=bool(number))
        found += [h.email for h in read_export_file(path, counts)]
    assert found == ["ann@example.com", "bob@example.com"] * 2
    assert (counts.files, counts.rows) == (2, 6)


def test_a_contact_id_that_would_name_a_second_contact_is_none(tmp_path: Path) -> None:
    # Pruned, `c-1,c-victim` would take a second contact off the list: the contact is
    # still compared (and reported as extra), but has no id to be removed by.
    text = UPPER.replace("c-1,", '"c-1,c-victim",', 1).replace("c-2,", "../c-2,", 1)
    rows, _ = read(write(tmp_path / "export-1.csv", text, gzipped=False))
    assert [(email, contact_id) for email, contact_id, _ in rows] == [
        ("ann@example.com", ""),
        ("bob@example.com", ""),
    ]


def test_an_empty_file_holds_nobody(tmp_path: Path) -> None:
    rows, counts = read(write(tmp_path / "empty", "", gzipped=True))
    assert rows == []
    assert counts.rows == 0


@pytest.mark.parametrize(
    ("url", "base", "problem"),
    [
        ("https://bucket.s3.amazonaws.com/x.csv.gz?sig=1", "https://api.sendgrid.com", None),
        ("http://127.0.0.1:3030/_emulator/files/x", "http://127.0.0.1:3030", None),
        ("http://127.0.0.1:3030/x", "https://api.sendgrid.com", "is not https"),
        ("http://bucket.example.com/x", "http://127.0.0.1:3030", "is not https"),
        ("file:///etc/passwd", "https://api.sendgrid.com", "has no host"),
        ("https://user:pw@example.com/x", "https://api.sendgrid.com", "holds a user name"),
        ("/relative", "https://api.sendgrid.com", "has no host"),
    ],
)
def test_only_https_export_urls_are_fetched(url: str, base: str, problem: str | None) -> None:
    found = download_problem(url, base)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_a_workspace_left_by_a_killed_audit_is_deleted_by_the_next(tmp_path: Path) -> None:
    from syncd.reconciling.auditing.workspace import remove_left_behind

    dead = tmp_path / "syncd-audit-999999999-abc"  # no such process
    dead.mkdir()
    (dead / "audit.sqlite3").write_text("personal data")
    alive = tmp_path / f"syncd-audit-{os.getppid()}-def"  # the process that runs the tests
    alive.mkdir()
    earlier = tmp_path / f"syncd-audit-{os.getpid()}-ghi"  # our pid, but not one of ours
    earlier.mkdir()
    other = tmp_path / "something-else"
    other.mkdir()
    assert sorted(remove_left_behind(str(tmp_path))) == sorted([dead.name, earlier.name])
    assert not dead.exists()
    assert not earlier.exists()
    assert alive.exists()
    assert other.exists()


def test_reading_an_export_leaves_the_segment_files_field_limit_in_place(tmp_path: Path) -> None:
    # csv's field limit is process-wide: sources refuse a field over theirs (untrusted input).
    path = tmp_path / "export.csv"
    path.write_text("EMAIL,FIRST_NAME\na@example.com,Ann\n")
    assert len(list(read_export_file(path, FileCounts()))) == 1
    assert csv.field_size_limit() == MAX_FIELD_CHARS


def test_the_newest_change_is_read_from_the_contacts_stamps(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "EMAIL,CREATED_AT,UPDATED_AT\n"
        "a@example.com,2026-11-30T01:00:00Z,2026-11-30T02:00:00Z\n"
        "b@example.com,2026-11-30T02:30:00Z,2026-11-30T02:30:00Z\n"
    )
    counts = FileCounts()
    assert len(list(read_export_file(path, counts))) == 2
    # A stamp to the second stands for the end of that second.
    assert counts.newest_change == 1_796_005_800.0 + 1


def test_a_stamp_that_is_no_time_gives_no_evidence(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("EMAIL,UPDATED_AT\na@example.com,2026-11-30T02:00:00Z\nb@example.com,soon\n")
    counts = FileCounts()
    list(read_export_file(path, counts))
    assert counts.newest_change is None  # the window then stays whole: the safe side


@pytest.mark.parametrize("gzipped", [False, True])
def test_an_endless_line_is_refused_before_it_is_held(tmp_path: Path, gzipped: bool) -> None:
    body = b"EMAIL,FIRST_NAME\na@example.com,Ann\nb@example.com," + b"x" * (2 << 20) + b"\n"
    path = tmp_path / "export.csv"
    path.write_bytes(gzip.compress(body) if gzipped else body)
    # ExportUnusable: the export is forgotten (the message promised a new one; the next
    # audit resumed the same export and read the same line again).
    with pytest.raises(ExportUnusable, match="a line over"):
        list(read_export_file(path, FileCounts()))


def test_a_line_of_exactly_the_limit_is_read(tmp_path: Path) -> None:
    name = "x" * (MAX_LINE_BYTES - len("a@example.com,"))
    path = tmp_path / "export.csv"
    path.write_text(f"EMAIL,FIRST_NAME\r\na@example.com,{name}\r\n", newline="")
    assert len(list(read_export_file(path, FileCounts()))) == 1


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("over", [0, 1])
def test_the_line_limit_holds_whatever_the_line_ending_and_across_blocks(
    tmp_path: Path, ending: str, over: int
) -> None:
    # Short lines first, so the long one starts in the middle of a block of bytes.
    rows = [f"p{n}@example.com,Ann" for n in range(5000)]
    long = "a@example.com," + "x" * (MAX_LINE_BYTES - len("a@example.com,") + over)
    path = tmp_path / "export.csv"
    path.write_bytes(
        ending.join(["EMAIL,FIRST_NAME", *rows, long, "z@example.com,Zed", ""]).encode()
    )
    if over:
        with pytest.raises(SendGridUnavailable, match="a line over"):
            list(read_export_file(path, FileCounts()))
    else:
        assert len(list(read_export_file(path, FileCounts()))) == 5002


def _cut_short(data: bytes) -> bytes:
    return gzip.compress(data)[: len(gzip.compress(data)) // 2]


def _damaged(data: bytes) -> bytes:
    packed = bytearray(gzip.compress(data))
    packed[12:40] = b"\xff" * 28  # the deflate stream's first blocks
    return bytes(packed)


def _wrong_checksum(data: bytes) -> bytes:
    packed = bytearray(gzip.compress(data))
    packed[-8] ^= 0xFF  # the CRC-32 in gzip's trailer
    return bytes(packed)


LINES = "".join(f"p{n}@example.com,Person {n}\n" for n in range(2000))


BUILDER = ContactBuilder(Mapping.model_validate({"email": "Email", "first_name": "First"}))
READERS: dict[str, Callable[[Path, FileCounts], Iterator[object]]] = {
    "contacts": read_export_file,  # the full comparison
    "prints": lambda path, counts: export_prints(path, counts, BUILDER),  # the quick way
}


@pytest.mark.parametrize(
    ("broken", "why"),
    [
        (_cut_short(("EMAIL,FIRST_NAME\n" + LINES).encode()), "gzip's end-of-stream marker"),
        (_damaged(("EMAIL,FIRST_NAME\n" + LINES).encode()), "compressed data is damaged"),
        (_wrong_checksum(("EMAIL,FIRST_NAME\n" + LINES).encode()), "header or checksum"),
        (("EMAIL,FIRST_NAME\n" + LINES).encode() + b"z@example.com,Z\xc3", "not UTF-8"),
        (_cut_short(b"EMAIL\na@example.com\n")[:6], "gzip's end-of-stream marker"),
    ],
    ids=["cut-short", "damaged", "checksum", "cut-mid-character", "cut-in-its-first-bytes"],
)
@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_file_cut_short_or_corrupt_makes_the_export_unusable_saying_so(
    tmp_path: Path, broken: bytes, why: str, reader: str
) -> None:
    # It failed the audit as `unexpected` with Python's own error (EOFError, zlib.error),
    # and the export was kept: the next audit downloaded the same broken file.
    path = tmp_path / "export.csv"
    path.write_bytes(broken)
    with pytest.raises(ExportUnusable) as failed:
        list(READERS[reader](path, FileCounts()))
    assert failed.value.message.startswith("the export file SendGrid gave was cut short or")
    assert why in failed.value.message
    assert "a new export is asked for at the next audit" in failed.value.message
