"""The emulator's email rule and custom field value rules."""

from __future__ import annotations

import pytest

from syncd.emulator import is_valid_email
from syncd.emulator.validation import convert_custom_value, normalize_email


@pytest.mark.parametrize(
    "email",
    [
        "ann@example.com",
        "ann.lee+news@mail.example.co.uk",
        "o'neil@example.ie",
        "x@a-b.example",
        "!#$%&'*+/=?^_`{|}~-@example.com",
        "a" * 64 + "@example.com",
    ],
)
def test_valid_addresses_pass_the_email_rule(email: str) -> None:
    assert is_valid_email(email)


@pytest.mark.parametrize(
    "email",
    [
        "",
        "ann",
        "ann@",
        "@example.com",
        "ann@example",
        "ann@@example.com",
        "ann@example.c",
        "ann@example.123",
        ".ann@example.com",
        "ann.@example.com",
        "an..n@example.com",
        "ann@-example.com",
        "ann@example-.com",
        "ann@exa_mple.com",
        "ann lee@example.com",
        '"ann"@example.com',
        "ann@[127.0.0.1]",
        "ann@exämple.com",
        "a" * 65 + "@example.com",
        "ann@" + "b" * 64 + ".com",
        "a@" + ".".join(["b" * 63] * 4) + ".com",
    ],
)
def test_invalid_addresses_fail_the_email_rule(email: str) -> None:
    assert not is_valid_email(email)


def test_addresses_are_trimmed_and_lower_cased_before_the_rule() -> None:
    assert normalize_email("  Ann@Example.COM\t") == "ann@example.com"


@pytest.mark.parametrize(
    ("raw", "field_type", "stored"),
    [
        ("gold", "Text", "gold"),
        (42, "Text", "42"),
        (4.0, "Text", "4"),
        (42, "Number", 42),
        (4.5, "Number", 4.5),
        ("42", "Number", 42),
        (" -3.25 ", "Number", -3.25),
        ("1e3", "Number", 1000.0),
        ("", "Number", ""),
        ("2024-01-31", "Date", "2024-01-31"),
        (1563315130, "Date", 1563315130),
        ("many", "Number", None),
        (float("nan"), "Number", None),
        (True, "Text", None),
        (None, "Text", None),
        ([1], "Number", None),
    ],
)
def test_custom_field_values_are_stored_by_type(
    raw: object, field_type: str, stored: object
) -> None:
    assert convert_custom_value(raw, field_type) == stored
