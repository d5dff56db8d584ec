"""Strict YAML: one mapping document, no anchors, aliases, merges, duplicate or odd keys."""

from __future__ import annotations

import time

from syncd.loading.yaml_reading import MAX_DEPTH, Place, read_yaml
from tests.loading.examples import VALID, changed, line_of

BILLION_LAUGHS = b"""\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def messages(text: bytes | str) -> list[str]:
    raw = text.encode() if isinstance(text, str) else text
    return [str(problem) for problem in read_yaml(raw, "f.yaml").problems]


def test_the_valid_example_reads_as_plain_data() -> None:
    document = read_yaml(VALID.encode(), "f.yaml")

    assert document.problems == ()
    assert document.data is not None
    assert document.data["spec"]["sendgrid"]["apiKey"] == {"env": "SENDGRID_API_KEY"}
    assert document.data["spec"]["limits"] == {"maxProfiles": 100000, "maxRemovalFraction": 0.2}


def test_positions_are_kept_for_keys_and_values_by_data_path() -> None:
    document = read_yaml(VALID.encode(), "f.yaml")

    list_id = document.nodes[("spec", "sendgrid", "listId")]
    assert list_id.key == Place(line_of(VALID, "listId"), 5)
    assert list_id.place == Place(line_of(VALID, "listId"), 13)
    segment = document.nodes[("spec", "segments", 0)]
    assert segment.key is None
    assert segment.place == Place(line_of(VALID, "- name: vip"), 7)
    assert document.nodes[("spec", "segments", 0, "source", "csv", "path")].kind == "text"


def test_an_anchor_is_refused_at_its_line() -> None:
    assert messages("a: &x 1\nb: 2\n") == ["f.yaml:1:4: YAML anchors and aliases are not allowed"]


def test_an_alias_is_refused_at_its_line_even_without_an_anchor() -> None:
    assert messages("a: 1\nb: *x\n") == ["f.yaml:2:4: YAML anchors and aliases are not allowed"]


def test_a_billion_laughs_file_is_refused_quickly_without_expanding_it() -> None:
    started = time.perf_counter()

    document = read_yaml(BILLION_LAUGHS, "bomb.yaml")

    assert time.perf_counter() - started < 0.5
    assert document.data is None
    assert [str(p) for p in document.problems] == [
        "bomb.yaml:1:4: YAML anchors and aliases are not allowed"
    ]


def test_a_duplicate_key_is_reported_at_the_second_key_with_the_first_line() -> None:
    text = changed(
        "    listId: 7f3c", "    listId: 00000000-0000-4000-8000-000000000000\n    listId: 7f3c"
    )

    document = read_yaml(text.encode(), "f.yaml")

    first = line_of(text, "listId")
    assert document.data is None
    assert [str(p) for p in document.problems] == [
        f"f.yaml:{first + 1}:5: duplicate key 'listId' (first at line {first})"
    ]


def test_duplicate_keys_in_different_mappings_are_not_duplicates() -> None:
    assert messages("a: {name: 1}\nb: {name: 2}\nc: [{name: 1}, {name: 2}]\n") == []


def test_every_duplicate_key_in_the_file_is_reported_at_once() -> None:
    assert messages("a: 1\na: 2\nb: {c: 1, c: 2}\n") == [
        "f.yaml:2:1: duplicate key 'a' (first at line 1)",
        "f.yaml:3:11: duplicate key 'c' (first at line 3)",
    ]


def test_a_merge_key_is_refused() -> None:
    assert messages("a: 1\n<<: {b: 2}\n") == ["f.yaml:2:1: YAML merge keys (<<) are not allowed"]


def test_a_key_that_yaml_reads_as_a_number_or_boolean_is_refused() -> None:
    assert messages("1: a\nyes: b\n? [c]\n: d\n") == [
        "f.yaml:1:1: keys must be text, not an integer (quote the key)",
        "f.yaml:2:1: keys must be text, not a boolean (quote the key)",
        "f.yaml:3:3: keys must be text, not a list (quote the key)",
    ]


def test_a_quoted_key_is_text() -> None:
    document = read_yaml(b"'1': a\n\"yes\": b\n", "f.yaml")

    assert document.data == {"1": "a", "yes": "b"}


def test_a_root_that_is_not_a_mapping_is_refused() -> None:
    assert messages("- a\n- b\n") == [
        "f.yaml:1:1: the document must be a mapping (apiVersion: ...), not a list"
    ]
    assert messages("just text\n") == [
        "f.yaml:1:1: the document must be a mapping (apiVersion: ...), not text"
    ]


def test_an_empty_file_is_refused() -> None:
    assert messages(b"") == ["f.yaml: the file is empty: expected one YAML document"]
    assert messages(b"# only a comment\n") == [
        "f.yaml: the file is empty: expected one YAML document"
    ]


def test_an_empty_document_is_refused() -> None:
    assert messages("---\n") == [
        "f.yaml:2:1: the document is empty: expected a mapping (apiVersion: ...)"
    ]


def test_two_documents_are_refused_at_the_second() -> None:
    text = VALID + "---\n" + VALID

    assert messages(text) == [
        f"f.yaml:{len(VALID.splitlines()) + 1}:1: expected one YAML document, found a second one"
    ]


def test_a_syntax_error_gives_its_line_column_and_problem_but_no_snippet() -> None:
    text = "a: 1\nb: [1, 2\nsecret: SG.canary-value\n"

    problems = read_yaml(text.encode(), "f.yaml").problems

    assert len(problems) == 1
    assert problems[0].line is not None
    assert problems[0].column is not None
    assert problems[0].message.startswith("YAML syntax error: ")
    assert "canary" not in str(problems[0])
    assert "\n" not in str(problems[0])


def test_a_tab_indentation_is_a_syntax_error_at_its_line() -> None:
    assert messages("a:\n\tb: 1\n") == [
        "f.yaml:2:1: YAML syntax error: found character that cannot start any token"
    ]


def test_tags_beyond_the_plain_types_are_refused() -> None:
    assert messages("a: !!python/object:os.system x\nb: !!binary aGk=\nc: !!set {x}\n") == [
        "f.yaml:1:4: YAML tags other than the standard types are not allowed",
        "f.yaml:2:4: YAML tags other than the standard types are not allowed",
        "f.yaml:3:4: YAML tags other than the standard types are not allowed",
    ]


def test_standard_tags_are_accepted() -> None:
    assert read_yaml(b"a: !!str 123\nb: !!int '7'\n", "f.yaml").data == {"a": "123", "b": 7}


def test_a_date_stays_the_text_it_was_written_as() -> None:
    assert read_yaml(b"a: 2024-01-01\n", "f.yaml").data == {"a": "2024-01-01"}


def test_an_integer_too_long_to_convert_is_a_problem_not_a_crash() -> None:
    assert messages(b"a: " + b"9" * 5000 + b"\n") == [
        "f.yaml:1:4: not a valid value for an integer"
    ]


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    text = "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"

    assert messages(text) == [f"f.yaml:1:{3 + MAX_DEPTH}: nested deeper than {MAX_DEPTH} levels"]


def test_bytes_that_are_not_utf8_are_refused_at_their_position() -> None:
    assert messages(b"a: 1\nb: \xff\n") == [
        "f.yaml:2:4: not valid UTF-8 text (invalid leading UTF-8 octet)"
    ]


def test_a_control_character_is_refused_without_echoing_the_text() -> None:
    problems = messages(b"SENDGRID_API_KEY=SG.canary\x00HOME=/root\x00")

    assert problems == ["f.yaml:1:27: character #x0000 is not allowed in YAML"]


def test_an_unquoted_cron_expression_gets_a_hint_to_quote_it() -> None:
    assert messages("schedule:\n  cron: */5 * * * *\n") == [
        "f.yaml:2:10: YAML syntax error: did not find expected alphabetic or numeric character "
        "(quote a value that starts with * or &, such as a cron expression)"
    ]
