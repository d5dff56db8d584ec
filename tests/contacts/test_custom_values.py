"""Custom field values as SendGrid takes them: typed where the field types are known."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest

from syncd.contacts import ContactBuilder, CustomField, Outgoing, bind_fields
from syncd.contacts.values import calendar_date, number
from syncd.destinations import Mapping
from syncd.ledger import open_ledger

MAPPING = Mapping.model_validate(
    {
        "email": "Email",
        "first_name": "First",
        "custom_fields": {"tier": "Tier", "orders": "Orders", "joined": "Joined"},
    }
)
FIELDS = {
    "tier": CustomField("e1_T", "Text"),
    "orders": CustomField("e2_N", "Number"),
    "joined": CustomField("e3_D", "Date"),
}


def sent(tier: Any = "gold", orders: Any = "3", joined: Any = "2024-01-31") -> dict[str, Any] | str:
    """The contact SendGrid receives for one source row, or why it is refused."""
    builder = ContactBuilder(MAPPING)
    keyed = builder.key(["a@example.com", "Ann", tier, orders, joined])
    assert not isinstance(keyed, str)
    built = builder.build_encoded(keyed[2])
    assert not isinstance(built, str)
    encoded = Outgoing(bind_fields("L", list(FIELDS), FIELDS), MAPPING).encode(built.payload)
    return encoded if isinstance(encoded, str) else orjson.loads(encoded)


def custom(**row: Any) -> dict[str, Any]:
    contact = sent(**row)
    assert isinstance(contact, dict), contact
    fields: dict[str, Any] = contact["custom_fields"]
    return fields


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("3", 3),
        ("-12", -12),
        ("+7", 7),
        ("007", 7),
        ("3.0", 3),
        ("3.", 3),
        ("-0", 0),
        (".5", 0.5),
        ("4.50", 4.5),
        ("1e3", 1000.0),
        ("-1.5E-2", -0.015),
        ("9007199254740992", 2**53),
        ("-9007199254740992.000", -(2**53)),
        (12, 12),
        (2.5, 2.5),
    ],
)
def test_numbers_are_sent_as_json_integers_when_whole_and_as_floats_otherwise(
    written: Any, value: int | float
) -> None:
    typed = custom(orders=written)["e2_N"]
    assert (typed, type(typed)) == (value, type(value))


ARABIC_INDIC_123 = "\u0661\u0662\u0663"
FULL_WIDTH_12 = "\uff11\uff12"
NOT_NUMBERS = ["1_000", ARABIC_INDIC_123, FULL_WIDTH_12, "nan", "NaN", "inf", "-Infinity", "1,000"]
NOT_NUMBERS += ["12abc", "0x10", "1e", "e3", ".", "+", "- 1", "3 4", "1.2.3", "\u00b2"]


@pytest.mark.parametrize("written", NOT_NUMBERS)
def test_numbers_written_any_other_way_are_refused_without_quoting_the_value(
    written: str,
) -> None:
    assert sent(orders=written) == (
        "custom field orders (Number): the value is not a number; write ASCII digits with an "
        "optional sign, decimal point and exponent (e.g. -12, 4.5, 1e3)"
    )


@pytest.mark.timeout(20)
@pytest.mark.parametrize("tail", ["x", ".5.", "e", "e+"])
def test_a_long_value_that_is_no_number_is_refused_in_linear_time(tail: str) -> None:
    # The pattern could split a run of digits anywhere: 100,000 digits then `x` held the
    # event loop for minutes, a 1 MiB value (allowed) for hours.
    assert sent(orders="7" * 1_000_000 + tail) == (
        "custom field orders (Number): the value is not a number; write ASCII digits with an "
        "optional sign, decimal point and exponent (e.g. -12, 4.5, 1e3)"
    )


@pytest.mark.parametrize(
    "written",
    [
        "9007199254740993",
        "-9007199254740993",
        "9007199254740993.0",
        "18446744073709551616",
        "1" + "0" * 5000,
        str(2**64),
    ],
)
def test_integers_beyond_2_to_the_53_are_refused_as_a_double_cannot_hold_them(
    written: str,
) -> None:
    reason = sent(orders=written)
    assert isinstance(reason, str)
    assert reason.startswith("custom field orders (Number): ")
    assert "is beyond ±2^53 (9,007,199,254,740,992), the largest integer" in reason
    assert len(reason) < 200


@pytest.mark.parametrize("written", ["1e400", "-1e999"])
def test_numbers_beyond_a_doubles_range_are_refused(written: str) -> None:
    assert sent(orders=written) == (
        "custom field orders (Number): the value is beyond the range of a number (a double)"
    )


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("2024-01-31", "01/31/2024"),
        ("2024-02-29", "02/29/2024"),
        ("2024-01-31T23:30", "01/31/2024"),
        ("2024-01-31 23:30:59", "01/31/2024"),
        ("2024-01-31T23:30:00Z", "01/31/2024"),
        ("2024-01-31T23:30:00.123456+05:30", "01/31/2024"),
        ("2024-01-31T00:30:00-08:00", "01/31/2024"),  # the date as written: no conversion
        ("2024-01-31 10:00:00+00", "01/31/2024"),
        ("01/31/2024", "01/31/2024"),
        ("1/2/2024", "01/02/2024"),
        (date(2024, 1, 31), "01/31/2024"),
        (datetime(2024, 1, 31, 23, 30), "01/31/2024"),
        (datetime(2024, 1, 31, 23, 30, 1, 5, tzinfo=UTC), "01/31/2024"),
        (datetime(2024, 1, 31, 1, tzinfo=timezone(timedelta(hours=-9))), "01/31/2024"),
    ],
)
def test_dates_are_sent_as_mm_dd_yyyy_the_format_sendgrid_documents(
    written: Any, value: str
) -> None:
    assert custom(joined=written)["e3_D"] == value


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("31/01/2024", " (the month comes first)"),
        ("31.01.2024", ""),
        ("2024-1-31", ""),
        ("20240131", ""),
        ("Jan 31 2024", ""),
        ("\u0662\u0660\u0662\u0664-\u0660\u0661-\u0663\u0661", ""),  # Arabic-Indic digits
        ("2024-01-31T10", ""),
        ("2024-01-31T10:00+5", ""),
        ("2024-01-31T25:00", " (its time is not a time of day)"),
        ("2024-01-31T10:00+24:00", " (its time is not a time of day)"),
        ("02/30/2024", " (there is no such day)"),
        ("2023-02-29", " (there is no such day)"),
        ("13/01/2024", " (the month comes first)"),
        ("00/10/2024", " (there is no such day)"),
        ("0000-01-01", " (there is no such day)"),
    ],
)
def test_other_or_impossible_dates_are_refused_before_sending(written: str, why: str) -> None:
    assert sent(joined=written) == (
        "custom field joined (Date): the value is not a date; use YYYY-MM-DD, an ISO 8601 "
        f"date-time or MM/DD/YYYY{why}"
    )


def test_blank_numbers_and_dates_are_left_out_and_blank_text_clears_the_field() -> None:
    assert custom(tier="", orders="", joined="  ") == {"e1_T": ""}
    assert custom(tier=None, orders=None, joined=None) == {"e1_T": ""}


def test_a_text_value_is_refused_over_1000_bytes_of_utf8_whatever_its_characters() -> None:
    assert custom(tier="a" * 1000)["e1_T"] == "a" * 1000
    assert custom(tier="😀" * 250)["e1_T"] == "😀" * 250  # 4 bytes each
    assert sent(tier="€" * 334) == (
        "custom field tier (Text): the value is 1,002 bytes of UTF-8, more than 1,000"
    )


def test_the_converters_return_a_value_or_refuse_and_nothing_else() -> None:
    assert number("") is None
    assert calendar_date("") is None
    with pytest.raises(ValueError, match="is not a number"):
        number("x")


def test_a_destination_that_sent_dates_before_sends_its_contacts_once_more(
    tmp_path: Path,
) -> None:
    ledger = open_ledger(str(tmp_path / "state.db"))
    binding = bind_fields("L", list(FIELDS), FIELDS)
    try:
        with ledger.session("with-dates") as session:
            # what an earlier syncd recorded: the Date field's type alone
            before = session.field_generation(
                {"tier": ("e1_T", "Text"), "joined": ("e3_D", "Date")}, record=True
            )
            assert session.field_generation(binding.ids(), record=True) == before + 1
            assert session.field_generation(binding.ids(), record=True) == before + 1
        with ledger.session("new") as session:
            first = session.field_generation({"tier": ("e1_T", "Text")}, record=True)
            assert session.field_generation(binding.ids(), record=True) == first
    finally:
        ledger.close()
