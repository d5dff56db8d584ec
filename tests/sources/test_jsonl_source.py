"""The JSON Lines reader over real files: bad lines rejected, a bad file refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncd.errors import SourceInvalid
from syncd.sources.base import BadRow, Row
from syncd.sources.jsonl import JsonLinesFile
from syncd.sources.lines import MAX_LINE_BYTES


def read(
    tmp_path: Path, content: str | bytes, *, max_line_bytes: int = MAX_LINE_BYTES
) -> list[Row]:
    path = tmp_path / "people.jsonl"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return list(JsonLinesFile(path, max_line_bytes=max_line_bytes).rows(["Email"]))


def test_lines_are_numbered_blank_lines_skipped_and_a_byte_order_mark_tolerated(
    tmp_path: Path,
) -> None:
    content = '\ufeff{"Email": "a@example.com"}\r\n\n  \n{"Email": "b@example.com", "n": 1}'
    assert read(tmp_path, content) == [(1, ["a@example.com"]), (4, ["b@example.com"])]


def test_a_mapped_key_written_twice_comes_with_all_its_values(tmp_path: Path) -> None:
    # For the field to refuse ("more than one value"): the line's other values and its
    # address stay known (when the key is the address's, the builder refuses the row).
    lines = [
        '{"Email": "a@example.com", "Email": "b@example.com"}',
        '{"Email": "a@example.com", "\\u0045mail": "b@example.com"}',  # the same key, escaped
        '{"Email": "c@example.com", "Note": 1, "Note": 2}',  # not mapped: harmless
        '{"Email": "d@example.com", "more": {"Email": 1, "Email": 2}}',  # nested: not a column
        '{"Email": "Email", "x": "\\"Email\\""}',  # the key's spelling as values
    ]
    assert read(tmp_path, "\n".join(lines)) == [
        (1, [["a@example.com", "b@example.com"]]),
        (2, [["a@example.com", "b@example.com"]]),
        (3, ["c@example.com"]),
        (4, ["d@example.com"]),
        (5, ["Email"]),
    ]


def test_lines_that_are_not_objects_are_rejected_one_by_one(tmp_path: Path) -> None:
    content = '{"Email": "a@example.com"}\n{"Email": \n[1]\n{"Email": {"x": 1}}\n'
    assert read(tmp_path, content) == [
        (1, ["a@example.com"]),
        (2, BadRow("not valid JSON")),
        (3, BadRow("not a JSON object")),
        (4, [{"x": 1}]),  # for the builder to refuse, saying which field
    ]


def test_a_line_a_writer_spells_nan_or_infinity_in_is_read(tmp_path: Path) -> None:
    # Python's json.dumps of a float NaN: an unmapped column once made the line "not
    # valid JSON", and its contact, listed, a leaver. A mapped one comes as its text.
    path = tmp_path / "people.jsonl"
    path.write_text(
        '{"Email": "a@example.com", "score": NaN}\n'
        '{"Email": "b@example.com", "score": -Infinity, "first": "B"}\n'
    )
    rows = list(JsonLinesFile(path).rows(["Email", "score"]))
    assert rows == [(1, ["a@example.com", "NaN"]), (2, ["b@example.com", "-Infinity"])]


def test_a_file_of_which_no_line_reads_is_refused_whole(tmp_path: Path) -> None:
    # Re-exported in UTF-16 without its mark (valid UTF-8, with NULs): every line was a
    # rejected row, and every contact of the segment was removed.
    lines = "".join(json.dumps({"Email": f"p{n}@example.com"}) + "\n" for n in range(3))
    path = tmp_path / "people.jsonl"
    path.write_bytes(lines.encode("utf-16-le"))
    with pytest.raises(SourceInvalid) as caught:
        list(JsonLinesFile(path).rows(["Email"]))
    assert caught.value.message == (
        "jsonl people.jsonl: no line is a usable JSON object (line 1: not valid JSON: it "
        "holds NUL bytes (UTF-16 or UTF-32?)); is the file JSON Lines in UTF-8?"
    )
    with pytest.raises(SourceInvalid, match="no line is a usable JSON object"):
        read(tmp_path, "[1]\nnot json\n")
    assert read(tmp_path, "\n") == []  # one blank line: an empty segment (the guards judge)
    with pytest.raises(SourceInvalid) as caught:  # zero bytes: an export cut short?
        read(tmp_path, "")
    assert caught.value.message == (
        "jsonl people.jsonl: the file is empty (0 bytes): an export cut short? A segment "
        "with nobody in it is a file holding one blank line"
    )
    assert read(tmp_path, "[1]\n" + '{"Email": "a@example.com"}\n') == [
        (1, BadRow("not a JSON object")),
        (2, ["a@example.com"]),
    ]


def test_integers_past_64_bits_are_read_exactly(tmp_path: Path) -> None:
    # orjson reads them as the nearest double: 18446744073709551617 became ...616.
    lines = [
        '{"Email": 18446744073709551617}',
        '{"Email": -123456789012345678901234}',
        '{"Email": 18446744073709551615}',  # orjson's own range, exact already
        '{"Email": 1.8446744073709552e19}',  # a double as written stays one
        '{"Email": 1' + "0" * 400 + "}",  # past a double's range: Python's parser reads it
    ]
    assert read(tmp_path, "\n".join(lines)) == [
        (1, [18446744073709551617]),
        (2, [-123456789012345678901234]),
        (3, [18446744073709551615]),
        (4, [1.8446744073709552e19]),
        (5, [10**400]),
    ]


def test_a_line_over_the_limit_refuses_the_file_naming_the_line(tmp_path: Path) -> None:
    short = json.dumps({"Email": "a@example.com"})
    long = json.dumps({"Email": "b" * 64})
    content = f"{short}\n{short}\n{long}\n{short}\n"
    with pytest.raises(SourceInvalid) as caught:
        read(tmp_path, content, max_line_bytes=64)
    assert caught.value.message == (
        "jsonl people.jsonl: line 3 is longer than the limit of 64 bytes; is it the right file?"
    )


def test_a_line_exactly_at_the_limit_is_read(tmp_path: Path) -> None:
    line = json.dumps({"Email": "a@example.com", "pad": ""})
    line = line[:-2] + "x" * (64 - len(line)) + '"}'
    assert len(line) == 64
    assert read(tmp_path, f"{line}\n{line}", max_line_bytes=64) == [
        (1, ["a@example.com"]),
        (2, ["a@example.com"]),
    ]


def test_bytes_that_are_not_utf8_refuse_the_file_naming_the_line_not_the_bytes(
    tmp_path: Path,
) -> None:
    content = b'{"Email": "a@example.com"}\n{"Email": "caf\xe9@example.com"}\n'
    with pytest.raises(SourceInvalid) as caught:
        read(tmp_path, content)
    assert caught.value.message == "jsonl people.jsonl: line 2 is not valid UTF-8"


def test_a_key_written_twice_with_the_same_value_is_that_value(tmp_path: Path) -> None:
    # Refused as "email holds more than one value": the contact, listed, was removed.
    content = '{"Email": "a@example.com", "n": 1, "Email": "a@example.com"}\n'
    assert read(tmp_path, content) == [(1, ["a@example.com"])]


@pytest.mark.parametrize("depth", [1000, 1100, 5000])
def test_a_line_nested_deeper_than_the_parsers_go_keeps_its_address(
    tmp_path: Path, depth: int
) -> None:
    # An unmapped value nested past Python's recursion (with an escape, which asks for the
    # repeated-key check) or past orjson's 1,024 levels made the line unreadable, and its
    # contact, listed, a leaver.
    deep = "[" * depth + "]" * depth
    content = f'{{"Email": "a@example.com", "x": "\\\\", "more": {{"y": {deep}}}}}\n'
    assert read(tmp_path, content) == [(1, ["a@example.com"])]


def test_a_mapped_value_too_deep_to_read_is_not_one_value(tmp_path: Path) -> None:
    deep = "[" * 5000 + "]" * 5000
    [(_, values)] = read(tmp_path, f'{{"Email": {deep}}}\n')
    assert values == [[deep]]  # refused by the builder: "email holds more than one value"
