"""One row never stops a run: every stage answers with a contact or a reason, whatever the row."""

from __future__ import annotations

import re
from datetime import UTC, timedelta, timezone
from decimal import Decimal
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.contacts import Built, ContactBuilder, CustomField, Outgoing, bind_fields
from syncd.destinations import Mapping

MAPPING = Mapping.model_validate(
    {
        "email": "Email",
        "first_name": "First",
        "city": "City",
        "custom_fields": {"tier": "Tier", "orders": "Orders", "joined": "Joined"},
    }
)
FIELDS = {
    "tier": CustomField("e1_T", "Text"),
    "orders": CustomField("e2_N", "Number"),
    "joined": CustomField("e3_D", "Date"),
}
BUILDER = ContactBuilder(MAPPING)
OUTGOING = Outgoing(bind_fields("L", list(FIELDS), FIELDS), MAPPING)
ORDERS = BUILDER.columns.index("Orders")
FIRST = BUILDER.columns.index("First")

AWKWARD = [
    "",
    "  ",
    "1_000",
    "\u0661\u0662\u0663",
    "nan",
    "-inf",
    "1e400",
    "18446744073709551616",
    "9007199254740993",
    "2024-02-30",
    "02/30/2024",
    "2024-01-31T10:00:00+05:30",
    "1/2/2024",
    "Ann\x00",
    "\x1b[2J",
    "a\u009bb",
    "line\nbreak",
    "\ud800",
    "x" * 2000,
    "\u20ac" * 400,
]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.decimals(),
    st.text(max_size=30),
    st.sampled_from(AWKWARD),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=-9))])),
    st.times(),
    st.binary(max_size=10),
    st.lists(st.integers(), max_size=3),
)
EMAILS = st.one_of(
    st.emails(),
    st.sampled_from(["Ann@Example.com", "a@b\u00fccher.ch", "\u212aate@example.com", "no-at"]),
    VALUES,
)
US_DATE = re.compile(r"[0-9]{2}/[0-9]{2}/[0-9]{4}")


def check_sent(encoded: bytes) -> None:
    """What SendGrid receives holds only values it takes."""
    contact: dict[str, Any] = orjson.loads(encoded)
    for field, value in contact.items():
        if field != "custom_fields":
            assert isinstance(value, str)
            assert not re.search("[\x00-\x1f\x7f-\x9f]", value), field
    custom = contact["custom_fields"]
    assert set(custom) <= {"e1_T", "e2_N", "e3_D"}
    assert len(custom["e1_T"].encode()) <= 1000
    if "e2_N" in custom:
        number = custom["e2_N"]
        assert type(number) is float or (type(number) is int and abs(number) <= 2**53)
    if "e3_D" in custom:
        assert US_DATE.fullmatch(custom["e3_D"])


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(email=EMAILS, rest=st.lists(VALUES, min_size=5, max_size=5))
def test_no_row_makes_key_build_or_encode_raise(email: Any, rest: list[Any]) -> None:
    values = [email, *rest]
    assert isinstance(BUILDER.raw_print(list(values)), int | None)
    direct = BUILDER.build(values)
    if isinstance(direct, Built):
        assert isinstance(OUTGOING.encode(direct.payload), bytes | str)
        # A first export encodes the payload as built, without decoding it: the same bytes
        # (or the same reason) as from the payload's encoding.
        assert OUTGOING.encode_fields(direct.fields) == OUTGOING.encode(direct.payload)
    keyed = BUILDER.key(list(values))
    if isinstance(keyed, str):
        return
    built = BUILDER.build_encoded(keyed[2])
    if isinstance(built, str):
        return
    assert built.email == keyed[0]
    sent = OUTGOING.encode(built.payload)
    assert OUTGOING.encode_fields(built.fields) == sent
    if isinstance(sent, bytes):
        check_sent(sent)


def test_a_number_beyond_64_bits_from_a_database_refuses_only_its_row() -> None:
    row: list[Any] = ["a@example.com", "Ann", "Oslo", "gold", 2**64, "2024-01-31"]
    row[ORDERS] = 2**64
    keyed = BUILDER.key(list(row))
    assert not isinstance(keyed, str)
    assert BUILDER.raw_print(list(row)) == keyed[1] % 2**64
    built = BUILDER.build_encoded(keyed[2])
    assert isinstance(built, Built)
    reason = OUTGOING.encode(built.payload)
    assert isinstance(reason, str)
    assert reason.startswith("custom field orders (Number): the value is beyond ±2^53")


def test_text_that_is_not_unicode_refuses_its_row_naming_the_column() -> None:
    row: list[Any] = ["a@example.com", "Ann", "Oslo", "gold", "3", "2024-01-31"]
    row[FIRST] = "Ann\ud800"
    assert BUILDER.key(list(row)) == (
        "column First: text that is not valid Unicode (a lone surrogate)"
    )
    assert BUILDER.raw_print(list(row)) == 0  # counted: staging then reports the row
    assert BUILDER.build(row) == "a value is not valid Unicode text (it holds a lone surrogate)"


def test_decimals_and_floats_from_databases_are_typed_like_their_text() -> None:
    row: list[Any] = ["a@example.com", "Ann", "Oslo", "gold", Decimal("12.50"), "2024-01-31"]
    keyed = BUILDER.key(list(row))
    assert not isinstance(keyed, str)
    built = BUILDER.build_encoded(keyed[2])
    assert isinstance(built, Built)
    sent = OUTGOING.encode(built.payload)
    assert isinstance(sent, bytes)
    assert orjson.loads(sent)["custom_fields"]["e2_N"] == 12.5
