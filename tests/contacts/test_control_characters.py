"""Control characters and terminal escape sequences are not sent to SendGrid."""

from __future__ import annotations

import orjson
import pytest

from syncd.contacts import Built, ContactBuilder
from syncd.destinations import Mapping

MAPPING = Mapping.model_validate(
    {
        "email": "Email",
        "first_name": "First",
        "city": "City",
        "custom_fields": {"notes": "Notes"},
    }
)
BUILDER = ContactBuilder(MAPPING)
NOT_SENT = "syncd does not send control characters: remove it from the source"


def build(first: str = "Ann", city: str = "Oslo", notes: str = "") -> Built | str:
    row = {"Email": "a@example.com", "First": first, "City": city, "Notes": notes}
    keyed = BUILDER.key([row[column] for column in BUILDER.columns])
    assert not isinstance(keyed, str)
    return BUILDER.build_encoded(keyed[2])


@pytest.mark.parametrize(
    ("first", "code"),
    [
        ("Ann\x00Lee", "U+0000"),
        ("\x1b[31mAnn", "U+001B"),  # a terminal escape sequence
        ("Ann\x1b]0;title\x07", "U+001B"),
        ("Ann\u009b2J", "U+009B"),  # the one-character CSI
        ("Ann\x7f", "U+007F"),
        ("Ann\tLee", "U+0009"),
        ("Ann\nLee", "U+000A"),
        ("Ann\u2028Lee", "U+2028"),  # a line separator: a line break to many viewers
        ("Ann\u2029Lee", "U+2029"),
        ("\u202enaJ", "U+202E"),  # a right-to-left override: shows as "Jan"
        ("Ann\u2066Lee\u2069", "U+2066"),  # an isolate
        ("Ann\u202aLee\u202c", "U+202A"),  # an embedding
    ],
)
def test_a_control_character_in_a_reserved_field_refuses_the_row_naming_the_field(
    first: str, code: str
) -> None:
    assert build(first=first) == f"first_name contains a control character {code}; {NOT_SENT}"


def test_a_custom_text_value_may_hold_tabs_and_line_breaks_but_no_other_control() -> None:
    built = build(notes="line one\r\nline\ttwo")
    assert isinstance(built, Built)
    assert orjson.loads(built.payload)["custom_fields"] == {"notes": "line one\r\nline\ttwo"}
    assert build(notes="beep\x07") == (
        f"custom field notes contains a control character U+0007; {NOT_SENT}"
    )


def test_a_custom_text_value_may_hold_unicode_line_separators_but_no_bidi_override() -> None:
    built = build(notes="line one\u2028line two\u2029")
    assert isinstance(built, Built)
    assert orjson.loads(built.payload)["custom_fields"] == {"notes": "line one\u2028line two"}
    assert build(notes="paid \u202e0001") == (
        f"custom field notes contains a control character U+202E; {NOT_SENT}"
    )


@pytest.mark.parametrize(
    "first",
    [
        "C:\\new\\table",
        "\\u001b",
        "Zo\u00eb \u00a3 \u00b0",
        "Ann\u200dLee",  # a zero-width joiner, part of many scripts and emoji
        "\u200fAnn",  # a right-to-left mark: no override, just a mark
        "Ann \u2014 \u201cLee\u201d \u2026",  # typographic dashes, quotes, ellipsis
        "Ann\u202fLee\u2027\u2060",  # the neighbours of the refused ranges
    ],
)
def test_backslashes_and_other_unusual_characters_are_not_taken_for_controls(first: str) -> None:
    built = build(first=first)
    assert isinstance(built, Built)
    assert orjson.loads(built.payload)["first_name"] == first


def test_control_characters_python_counts_as_spaces_are_trimmed_at_the_ends() -> None:
    built = build(first="\tAnn\n", city="\x1cOslo\x1f")
    assert isinstance(built, Built)
    assert orjson.loads(built.payload)["first_name"] == "Ann"
    assert orjson.loads(built.payload)["city"] == "Oslo"
