"""The CSV reader over real files: strict parsing, exact line numbers, silent about data."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.errors import SourceInvalid
from syncd.sources.base import Row
from syncd.sources.csvfile import MAX_FIELD_CHARS, CsvFile
from syncd.sources.lines import MAX_LINE_BYTES

SECRET = "SG.canary-key-0123456789.canary-secret-abcdefghij"


def read(
    tmp_path: Path,
    content: str | bytes,
    columns: tuple[str, ...] = ("Email",),
    *,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> list[Row]:
    path = tmp_path / "people.csv"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return list(CsvFile(path, max_line_bytes=max_line_bytes).rows(list(columns)))


def refused(
    tmp_path: Path,
    content: str | bytes,
    columns: tuple[str, ...] = ("Email",),
    *,
    max_line_bytes: int = MAX_LINE_BYTES,
) -> str:
    with pytest.raises(SourceInvalid) as caught:
        read(tmp_path, content, columns, max_line_bytes=max_line_bytes)
    return caught.value.message


def stray_quote_file(rows: int, at: int) -> str:
    lines = ["Email,Name"] + [f"person.{n}@example.com,Person {n}" for n in range(1, rows + 1)]
    lines[at] = f'person.{at}@example.com,"Person {at}'
    return "\n".join(lines) + "\n"


def test_rows_are_numbered_by_the_line_they_start_on_also_across_quoted_line_breaks(
    tmp_path: Path,
) -> None:
    content = 'Email,Note\r\na@example.com,"two\r\nlines"\r\n\r\nb@example.com,plain\r\n'
    assert read(tmp_path, content, ("Email", "Note")) == [
        (2, ["a@example.com", "two\r\nlines"]),
        (5, ["b@example.com", "plain"]),
    ]


def test_lines_may_end_with_a_lone_carriage_return(tmp_path: Path) -> None:
    assert read(tmp_path, "Email\ra@example.com\rb@example.com") == [
        (2, ["a@example.com"]),
        (3, ["b@example.com"]),
    ]


def test_a_quote_left_open_refuses_the_file_naming_the_row_where_it_opens(tmp_path: Path) -> None:
    message = refused(tmp_path, stray_quote_file(2000, at=1700), ("Email", "Name"))
    assert message.startswith("csv people.csv: the row starting on line 1701 opens a quoted field")
    assert "never closed" in message


def test_a_quote_left_open_on_the_last_line_without_a_newline_refuses_the_file(
    tmp_path: Path,
) -> None:
    message = refused(tmp_path, 'Email\na@example.com\n"b@example.com', ("Email",))
    assert "the row starting on line 3 opens a quoted field that is never closed" in message


def test_text_after_a_closing_quote_refuses_the_file_naming_its_line(tmp_path: Path) -> None:
    content = f'Email,Name\na@example.com,Ann\nb@example.com,"Bob" {SECRET}\n'
    message = refused(tmp_path, content, ("Email", "Name"))
    assert message.startswith("csv people.csv: line 3: a quoted field's closing quote")
    assert SECRET not in message
    assert "example.com" not in message


def test_a_quote_inside_an_unquoted_field_is_kept_as_text(tmp_path: Path) -> None:
    content = 'Email,Name\na@example.com,Ann "Nancy" Lee\n'
    assert read(tmp_path, content, ("Email", "Name")) == [(2, ["a@example.com", 'Ann "Nancy" Lee'])]


def test_a_stray_quote_closed_on_a_later_line_joins_the_lines_as_a_quoted_line_break_does(
    tmp_path: Path,
) -> None:
    # What strict parsing cannot tell from a real line break inside a field: documented.
    content = 'Email,Name\na@example.com,"Ann\nb@example.com,Bob"\nc@example.com,Cy\n'
    assert read(tmp_path, content, ("Email", "Name")) == [
        (2, ["a@example.com", "Ann\nb@example.com,Bob"]),
        (4, ["c@example.com", "Cy"]),
    ]


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_a_line_over_the_limit_refuses_the_file_naming_the_line(
    tmp_path: Path, ending: str
) -> None:
    lines = ["Email", "a" * 64, "b" * 65, "c"]
    message = refused(tmp_path, ending.join(lines) + ending, max_line_bytes=64)
    assert (
        message
        == "csv people.csv: line 3 is longer than the limit of 64 bytes; is it the right file?"
    )


def test_a_last_line_over_the_limit_without_a_newline_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, "Email\nok\n" + "x" * 65, max_line_bytes=64)
    assert "line 3 is longer than the limit of 64 bytes" in message


def test_the_line_limit_counts_bytes_across_every_chunk_boundary(tmp_path: Path) -> None:
    # Lines of every length around the limit, so that line ends fall on chunk edges.
    lines = ["Email"] + ["y" * (n % 70) for n in range(1, 400)]
    assert len(read(tmp_path, "\n".join(lines) + "\n", max_line_bytes=70)) == 399 - 5
    lines[300] = "z" * 71
    assert "line 301 is longer than" in refused(
        tmp_path, "\n".join(lines) + "\n", max_line_bytes=70
    )


def test_a_quoted_field_over_the_field_limit_is_refused_even_with_short_lines(
    tmp_path: Path,
) -> None:
    field = "\n".join(["x" * 1000] * (MAX_FIELD_CHARS // 1000 + 1))
    message = refused(tmp_path, f'Email,Note\na@example.com,"{field}"\n', ("Email", "Note"))
    assert message.startswith("csv people.csv: the row starting on line 2 has a field longer than")


def test_a_record_over_many_lines_is_bounded_as_a_whole_and_a_short_one_is_read(
    tmp_path: Path,
) -> None:
    field = "\n".join(["x" * 1000] * 900)  # 900 KB: under the field limit; three: over 2 MiB
    content = f'Email,A,B,C\nfirst@example.com,"{field}","{field}","{field}"\nnext@example.com\n'
    message = refused(tmp_path, content, ("Email", "A"))
    assert message.startswith("csv people.csv: the row starting on line 2 spans lines adding")
    rows = read(tmp_path, 'Email,A\na@example.com,"two\nlines"\nb@example.com,x\n', ("Email", "A"))
    assert rows == [(2, ["a@example.com", "two\nlines"]), (4, ["b@example.com", "x"])]


def test_bytes_that_do_not_decode_name_their_line_even_far_into_the_file(tmp_path: Path) -> None:
    lines = [b"Email"] + [b"person.%d@example.com" % n for n in range(10_000)]
    lines[9_000] = b"caf\xe9@example.com"
    message = refused(tmp_path, b"\r\n".join(lines))
    assert message.startswith("csv people.csv: line 9001 is not valid utf-8")
    assert "caf" not in message


def test_a_mapped_column_named_twice_refuses_the_file(tmp_path: Path) -> None:
    message = refused(tmp_path, "Email,Name, Email\na@example.com,Ann,b@example.com\n")
    assert message == (
        "csv people.csv: column 'Email' appears 2 times (columns 1 and 3); which one is "
        "meant is ambiguous: rename the others"
    )


def test_an_unmapped_column_named_twice_is_harmless(tmp_path: Path) -> None:
    assert read(tmp_path, "Email,Note,Note\na@example.com,x,y\n") == [(2, ["a@example.com"])]


def test_a_missing_column_never_lists_the_header_but_suggests_a_near_name(tmp_path: Path) -> None:
    message = refused(tmp_path, f"{SECRET},email ,Name\n1,2,3\n", ("Email", "Orders"))
    assert message == (
        "csv people.csv: columns 'Email', 'Orders' not found among the source's 3 columns "
        "(names must match exactly; did you mean 'email' for 'Email'?); fix spec.mapping "
        "or the source"
    )


def test_a_secret_read_as_a_csv_file_never_appears_in_the_error(tmp_path: Path) -> None:
    for content in (SECRET, f"{SECRET}\n", f'"{SECRET}', f"Email\n{SECRET}\xff".encode("latin-1")):
        message = refused(tmp_path, content)
        assert "canary" not in message, message


def test_form_feeds_and_unicode_separators_stay_inside_their_field(tmp_path: Path) -> None:
    content = "Email,Note\na@example.com,page\x0cbreak\u2028line\x85end\nb@example.com,x\n"
    assert read(tmp_path, content, ("Email", "Note")) == [
        (2, ["a@example.com", "page\x0cbreak\u2028line\x85end"]),
        (3, ["b@example.com", "x"]),
    ]


def test_errors_after_a_quoted_line_break_name_the_physical_line(tmp_path: Path) -> None:
    head = 'Email,Note\na@example.com,"two\nlines"\n'
    assert "line 4: a quoted field's closing quote" in refused(
        tmp_path, head + 'b@example.com,"c"d\n', ("Email", "Note")
    )
    assert "line 4 is longer than the limit of 64 bytes" in refused(
        tmp_path, head + "b" * 65 + "\n", ("Email", "Note"), max_line_bytes=64
    )
    assert "line 5 is not valid utf-8" in refused(
        tmp_path, head.encode() + b"b@example.com,ok\nc@example.com,\xff\n", ("Email", "Note")
    )


def test_a_utf16_line_over_the_limit_is_refused_though_its_characters_hold_newline_bytes(
    tmp_path: Path,
) -> None:
    # U+010A is 0A 01 in UTF-16-LE: every character holds a newline byte, so the bytes
    # alone never find the line too long; its decoded length does.
    path = tmp_path / "people.csv"
    path.write_bytes(("Email\n" + "\u010a" * 5_000 + "\n").encode("utf-16-le"))
    source = CsvFile(path, encoding="utf-16-le", max_line_bytes=1_000)
    with pytest.raises(SourceInvalid) as caught:
        list(source.rows(["Email"]))
    assert "is longer than the limit of 1000 bytes" in caught.value.message


def test_a_utf16_file_without_a_byte_order_mark_is_refused_as_not_decoding(
    tmp_path: Path,
) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes("Email\na@example.com\n".encode("utf-16-be"))
    source = CsvFile(path, encoding="utf-16")
    with pytest.raises(SourceInvalid) as caught:
        list(source.rows(["Email"]))
    assert caught.value.message.startswith("csv people.csv: line 1 is not valid utf-16")


@pytest.mark.parametrize("codec", ["rot13", "base64", "zlib_codec", "punycode", "nonesuch"])
def test_a_codec_that_is_not_a_files_encoding_is_refused_by_name(
    tmp_path: Path, codec: str
) -> None:
    path = tmp_path / "people.csv"
    path.write_text("Email\na@example.com\n")
    with pytest.raises(SourceInvalid) as caught:
        list(CsvFile(path, encoding=codec).rows(["Email"]))
    assert caught.value.message.startswith("csv people.csv: ")
    assert repr(codec) in caught.value.message
