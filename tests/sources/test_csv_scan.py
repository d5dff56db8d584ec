"""The scan of plain CSV files gives exactly the rows and prints of the csv module's read.

`Scan` (bytes split at line ends, hashed in C) must agree with `CsvFile.printed_rows` (the
csv module, strict) on every file it does not give way on: the same prints in the same
order, the same rows for the lines asked for, the same error. Checked on the bad-input
corpus, on the cases the CSV reader's own tests name, and on thousands of generated files
built from the characters that make CSV hard.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from syncd.errors import SourceInvalid
from syncd.sources import csv_scan
from syncd.sources.csv_scan import KeptLines, NotPlain, Picks, open_scan
from syncd.sources.csvfile import CsvFile

CORPUS = Path(__file__).parent.parent / "corpus" / "sources"
SEED = 0x5EED
HARD_CASES: list[str | bytes] = [
    'Email,Note\r\na@example.com,"two\r\nlines"\r\n\r\nb@example.com,plain\r\n',
    "Email\ra@example.com\rb@example.com",
    'Email,Note\na@example.com,"open\nb@example.com,x\n',
    'Email,Note\na@example.com,"closed"after\n',
    'Email,Note\na@example.com,in"side\nb@example.com,x\n',
    'Email,Note\na@example.com,in"side,"b\nc"\n',
    '\ufeffEmail,Note\r\na@example.com,"quoted, comma"\r\nb@example.com,"dq ""x"""\r\n',
    "Email,Note\na@example.com,form\x0cfeed\u2028sep\x1cx\nb@example.com,\x85\n",
    "Email,Note\n\n\na@example.com\n   \nb@example.com,1,2,3\n",
    "Email,Note\na@example.com,x\r\nb@example.com,y\nc@example.com,z",
    "Email,Note\na@example.com,x\r",
    "Email,Note\na@example.com,x\rb@example.com,y\n",
    "Email,Note\na@example.com,nul\x00byte\n",
    '"Email","Note"\n"a@example.com","x"\n',
    '"Email\nName",Note\na@example.com,x\n',
    "Email,Note\n",
    "",
    "Note\na@example.com\n",
]
BAD_BYTES: list[str | bytes] = [
    b"Email,Note\na@example.com,ok\nb@example.com,\xff\xfe\nc@example.com,ok\n",
    b"Email,Note\na@example.com,caf\xc3\xa9\r\nb@example.com,\xe9t\xe9\r\n",
    b"\xef\xbb\xbfEmail,Note\na@example.com,x\n",
]
TOKENS = ["a", "b@x.com", ",", ",", '"', '""', "\n", "\n", "\r\n", "\r", " ", "é", "\u2028",
          "\x0c", "\x00", ";"]  # fmt: skip


def every_line(prints: Sequence[int]) -> list[bool]:
    return [True] * len(prints)


def exact(path: Path, columns: list[str]) -> tuple[list[tuple[Any, ...]], str | None]:
    """The csv module's rows and prints, and its error if it refuses the file."""
    rows: list[tuple[Any, ...]] = []
    try:
        for number, values, printed in CsvFile(path).printed_rows(columns, SEED):
            rows.append((number, values if not isinstance(values, list) else list(values), printed))
    except SourceInvalid as error:
        return rows, error.message
    return rows, None


def scanned(
    path: Path, columns: list[str], *, in_order: bool = False, picks: Picks = every_line
) -> tuple[list[int], list[tuple[Any, ...]], str | None]:
    """The scan's prints, its rows for the lines `picks` flags (read where they are, or on
    a pass over the file when `in_order`), and the error reading them gave."""
    scan = open_scan(CsvFile(path), columns, SEED)
    kept = KeptLines(io.BytesIO(), io.BytesIO())  # read back by lines_in
    prints = [p for chunk in scan.prints(kept) for p in chunk]
    if in_order:
        kept.placed = False
    rows: list[tuple[Any, ...]] = []
    try:
        for number, values, printed in scan.lines_in(picks, kept):
            rows.append((number, values if not isinstance(values, list) else list(values), printed))
    except SourceInvalid as error:
        return prints, rows, error.message
    return prints, rows, None


def agree(path: Path, columns: list[str]) -> str:
    """ "gave way", or "same" once the scan is checked against the csv module."""
    expected, error = exact(path, columns)
    refusal: str | None
    try:
        prints, rows, scan_error = scanned(path, columns, in_order=True)
    except NotPlain:
        return "gave way"
    except SourceInvalid as header_error:  # a mapped column missing: refused the same way
        refusal = header_error.message
    else:
        refusal = None
        try:  # the lines read where they are: the same, or given way for a carriage return
            assert scanned(path, columns) == (prints, rows, scan_error)
        except NotPlain:
            assert b"\r" in path.read_bytes()
    if refusal is not None:
        assert (expected, error) == ([], refusal)
        return "same"
    if error is not None:  # refused the same way (the csv module stops sooner: it decodes
        assert scan_error == error  # a chunk at a time, before parsing any of its rows)
        return "same"
    assert (rows, scan_error) == (expected, None)
    assert prints == [printed for *_, printed in expected]
    return "same"


def header_columns(path: Path) -> list[str]:
    text = path.read_bytes().decode("utf-8", "replace").removeprefix("\ufeff")
    header = next(csv.reader(text.splitlines()[:1]), ["Email"])
    names = list(dict.fromkeys(name.strip() for name in header))
    return names[:3] or ["Email"]


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.csv")), ids=lambda p: p.name)
def test_the_corpus_files_are_scanned_as_the_csv_module_reads_them(path: Path) -> None:
    agree(path, header_columns(path))


@pytest.mark.parametrize("content", HARD_CASES + BAD_BYTES)
def test_the_hard_cases_are_scanned_as_the_csv_module_reads_them_or_given_way(
    tmp_path: Path, content: str | bytes
) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    agree(path, header_columns(path))


def test_generated_files_are_scanned_as_the_csv_module_reads_them_or_given_way(
    tmp_path: Path,
) -> None:
    rng = random.Random(17)
    outcomes = {"same": 0, "gave way": 0}
    for n in range(3000):
        lines = [
            "".join(rng.choice(TOKENS) for _ in range(rng.randrange(0, 12)))
            for _ in range(rng.randrange(1, 8))
        ]
        body = rng.choice(["\n", "\r\n"]).join(lines)
        path = tmp_path / f"{n}.csv"
        path.write_bytes(("Email,Note\n" + body).encode())
        outcomes[agree(path, ["Email", "Note"])] += 1
    # Both ways are taken often: the comparison is not vacuous.
    assert outcomes["same"] > 500, outcomes
    assert outcomes["gave way"] > 500, outcomes


def test_a_line_that_only_looks_whole_gives_way(tmp_path: Path) -> None:
    # An unquoted field holding a quote, then a quoted field left open: the quotes are
    # even, but the record goes on to the next line.
    path = tmp_path / "people.csv"
    path.write_bytes(b'Email,Note,Other\na@example.com,in"side,"open\nstill open",x\n')
    assert exact(path, ["Email", "Note", "Other"])[0] == [
        (2, ["a@example.com", 'in"side', "open\nstill open"], exact(path, ["Email"])[0][0][2])
    ]
    with pytest.raises(NotPlain):
        scanned(path, ["Email", "Note", "Other"])


def test_a_plain_file_is_scanned_and_its_prints_follow_its_layout(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(b"Email,Note\r\na@example.com,x\r\n\r\nb@example.com,y\r\n")
    assert agree(path, ["Email", "Note"]) == "same"
    prints = scanned(path, ["Email", "Note"])[0]
    path.write_bytes(b"Note,Email\r\na@example.com,x\r\n\r\nb@example.com,y\r\n")
    assert scanned(path, ["Email", "Note"])[0] != prints  # other columns: other prints


def some_lines(prints: Sequence[int]) -> list[bool]:
    return [printed % 3 == 0 for printed in prints]


def test_the_lines_wanted_are_read_where_they_are_as_a_pass_over_the_file_reads_them(
    tmp_path: Path,
) -> None:
    rng = random.Random(5)
    path = tmp_path / "people.csv"
    lines = [f"p{n}@example.com,{'é' * rng.randrange(0, 4)}{n}" for n in range(20_000)]
    lines[7] = lines[300] = ""  # blank lines: no row, but a line's length all the same
    path.write_text("\ufeffEmail,Note\n" + "\n".join(lines), encoding="utf-8")
    expected = scanned(path, ["Email", "Note"], in_order=True, picks=some_lines)
    assert len(expected[1]) > 5_000
    read_at = csv_scan.Scan._read_at
    calls: list[int] = []

    def counted(scan: csv_scan.Scan, picked: list[tuple[int, int, int, int]]) -> Any:
        calls.append(len(picked))
        return read_at(scan, picked)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csv_scan.Scan, "_read_at", counted)
        assert scanned(path, ["Email", "Note"], picks=some_lines) == expected
        assert calls  # read where they are, not on a pass
        patch.setattr(csv_scan, "MAX_PICKED", len(expected[1]) - 1)
        calls.clear()
        assert scanned(path, ["Email", "Note"], picks=some_lines) == expected
        assert not calls  # too many: a pass over the file


def test_a_file_changed_since_its_scan_is_not_read_where_its_lines_were(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(b"Email,Note\na@example.com,x\nb@example.com,y\n")
    scan = open_scan(CsvFile(path), ["Email", "Note"], SEED)
    kept = KeptLines(io.BytesIO(), io.BytesIO())
    list(scan.prints(kept))
    assert kept.placed
    path.write_bytes(b"Email,Note\nb@example.com,x\na@example.com,y\n")  # the same size
    with pytest.raises(NotPlain):
        list(scan.lines_in(every_line, kept))


@pytest.mark.parametrize(
    ("content", "placed"),
    [
        (b"Email,Note\r\na@example.com,x\r\nb@example.com,y\r\n", False),
        (b"Email,Note\na@example.com,x\nb@example.com,y", True),
        # One carriage return and no newline at the end: the lengths add up by chance, and
        # the line read where it was counted is not the one scanned.
        (b"Email,Note\r\na@example.com,x\nb@example.com,y", True),
    ],
)
def test_lines_are_read_where_they_are_only_when_their_lengths_place_them(
    tmp_path: Path, content: bytes, placed: bool
) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(content)
    scan = open_scan(CsvFile(path), ["Email", "Note"], SEED)
    kept = KeptLines(io.BytesIO(), io.BytesIO())
    list(scan.prints(kept))
    assert kept.placed is placed
    expected = scanned(path, ["Email", "Note"], in_order=True)
    if b"\r\na" in content and placed:
        with pytest.raises(NotPlain):
            list(scan.lines_in(every_line, kept))
    else:
        assert scanned(path, ["Email", "Note"]) == expected
