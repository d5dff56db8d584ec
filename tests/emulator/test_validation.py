"""The emulator's email rule and custom field value rules."""

from __future__ import annotations

import pytest

from syncd.emulator.validation import is_valid_email, normalize_email
from syncd.emulator.values import Refused, custom_value


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
def test_lenient_rules_convert_custom_values_to_their_type(
    raw: object, field_type: str, stored: object
) -> None:
    converted = custom_value(raw, field_type, "lenient")
    assert converted == (Refused(f"expected a {field_type}") if stored is None else stored)


@pytest.mark.parametrize(
    ("raw", "field_type"),
    [
        ("gold", "Text"),
        ("", "Text"),
        ("é" * 500, "Text"),
        (42, "Number"),
        (-4.5, "Number"),
        (2**53, "Number"),
        (-(2**53), "Number"),
        (1e300, "Number"),
        ("01/31/2024", "Date"),
        ("02/29/2024", "Date"),
    ],
)
def test_strict_rules_keep_values_that_fit_as_they_are(raw: object, field_type: str) -> None:
    assert custom_value(raw, field_type, "strict") == raw


@pytest.mark.parametrize(
    ("raw", "field_type", "reason"),
    [
        (42, "Text", "expected a Text: a string, not a number"),
        ("é" * 501, "Text", "a Text value is at most 1000 bytes of UTF-8"),
        ("x" * 1001, "Text", "a Text value is at most 1000 bytes of UTF-8"),
        ("42", "Number", "expected a Number: a JSON number, not a string"),
        ("", "Number", "expected a Number: a JSON number, not a string"),
        (float("inf"), "Number", "expected a finite Number"),
        (float("nan"), "Number", "expected a finite Number"),
        (2**53 + 1, "Number", "a Number integer must be within +/-9007199254740992"),
        (-(2**53) - 1, "Number", "a Number integer must be within +/-9007199254740992"),
        (True, "Number", "expected a Number"),
        ("", "Date", "expected a Date as MM/DD/YYYY"),
        ("1/31/2024", "Date", "expected a Date as MM/DD/YYYY"),
        ("2024-01-31", "Date", "expected a Date as MM/DD/YYYY"),
        ("02/30/2024", "Date", "expected a Date as MM/DD/YYYY"),
        ("13/01/2024", "Date", "expected a Date as MM/DD/YYYY"),
        (1563315130, "Date", "expected a Date: a string, not a number"),
    ],
)
def test_strict_rules_refuse_values_sendgrid_may_not_take(
    raw: object, field_type: str, reason: str
) -> None:
    assert custom_value(raw, field_type, "strict") == Refused(reason)
