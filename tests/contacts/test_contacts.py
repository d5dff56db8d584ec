from __future__ import annotations

from dataclasses import replace

import orjson
import pytest
from email_validator import validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.contacts import (
    Built,
    ContactBuilder,
    CustomField,
    Outgoing,
    UnknownCustomFieldsError,
    bind_fields,
    plainly_valid,
)
from syncd.destinations import Mapping

MAPPING = Mapping.model_validate(
    {
        "email": "Email",
        "first_name": "First",
        "city": "City",
        "custom_fields": {"loyalty_tier": "Tier", "orders": "Orders", "joined": "Joined"},
    }
)
FIELDS = {
    "loyalty_tier": CustomField("e1_T", "Text"),
    "orders": CustomField("e2_N", "Number"),
    "joined": CustomField("e3_D", "Date"),
}


def build(**values: str | None) -> Built | str:
    builder = ContactBuilder(MAPPING)
    row: dict[str, str | None] = {"Email": "a@example.com", "First": "Ann", "City": "Oslo"}
    row |= {"Tier": "gold", "Orders": "3", "Joined": "2024-01-31"}
    row |= values
    return builder.build([row[c] for c in builder.columns])


def test_the_email_is_trimmed_and_lower_cased() -> None:
    built = build(Email="  Ann.Lee@Example.COM ")
    assert isinstance(built, Built)
    assert built.email == "ann.lee@example.com"
    assert orjson.loads(built.payload)["email"] == "ann.lee@example.com"


def test_each_column_is_read_once_even_when_mapped_twice() -> None:
    mapping = Mapping.model_validate({"email": "E", "first_name": "N", "last_name": "N"})
    assert ContactBuilder(mapping).columns == ("E", "N")


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"Email": ""}, "email is empty"),
        ({"Email": None}, "email is empty"),
        ({"Email": "no-at-sign"}, "email is not a valid address: no @"),
        ({"Email": "a" * 250 + "@x.com"}, "email is longer than 254 characters"),
        ({"First": "x" * 51}, "first_name is longer than 50 characters (51)"),
        ({"City": "y" * 61}, "city is longer than 60 characters (61)"),
    ],
)
def test_rows_sendgrid_would_refuse_are_rejected_with_a_reason(
    values: dict[str, str | None], reason: str
) -> None:
    assert build(**values) == reason


def test_the_fingerprint_changes_exactly_when_the_payload_changes() -> None:
    first, same, other = build(), build(), build(City="Bergen")
    assert isinstance(first, Built)
    assert isinstance(same, Built)
    assert isinstance(other, Built)
    assert first.fingerprint == same.fingerprint
    assert first.fingerprint != other.fingerprint


def test_blank_values_leave_the_fingerprint_alone_but_are_sent_to_clear_the_field() -> None:
    built, without = build(City="   ", Tier=""), build(City=None, Tier=None)
    assert isinstance(built, Built)
    assert isinstance(without, Built)
    assert built.fingerprint == without.fingerprint
    assert "city" not in orjson.loads(built.payload)
    sent = Outgoing(bind_fields("L", list(FIELDS), FIELDS), MAPPING).encode(built.payload)
    assert isinstance(sent, bytes)
    decoded = orjson.loads(sent)
    assert decoded["city"] == ""
    assert decoded["custom_fields"]["e1_T"] == ""


def test_outgoing_payloads_carry_custom_field_ids_and_typed_values() -> None:
    built = build()
    assert isinstance(built, Built)
    encoded = Outgoing(bind_fields("L", list(FIELDS), FIELDS), MAPPING).encode(built.payload)
    assert isinstance(encoded, bytes)
    assert orjson.loads(encoded)["custom_fields"] == {
        "e1_T": "gold",
        "e2_N": 3,
        "e3_D": "01/31/2024",
    }


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"Email": "someone@example"}, "email is not a valid address"),
        ({"Email": "two@@example.com"}, "email is not a valid address"),
        ({"Orders": "many"}, "custom field orders (Number): the value is not a number; write"),
        ({"Joined": "31.01.2024"}, "custom field joined (Date): the value is not a date; use"),
    ],
)
def test_contacts_about_to_be_sent_are_checked_fully(values: dict[str, str], fragment: str) -> None:
    built = build(**values)
    assert isinstance(built, Built)
    reason = Outgoing(bind_fields("L", list(FIELDS), FIELDS), MAPPING).encode(built.payload)
    assert isinstance(reason, str)
    assert fragment in reason
    assert values.get("Email", "\0") not in reason


def test_custom_field_names_resolve_case_insensitively_and_unknown_ones_list_the_choices() -> None:
    binding = bind_fields("L", ["Loyalty_Tier"], FIELDS)
    assert binding.custom_fields["Loyalty_Tier"].id == "e1_T"
    with pytest.raises(UnknownCustomFieldsError) as caught:
        bind_fields("L", ["tier", "orders"], FIELDS)
    assert caught.value.unknown == ["tier"]
    assert "available: joined, loyalty_tier, orders" in str(caught.value)


def test_the_binding_digest_changes_with_the_list_or_the_field_generation() -> None:
    base = bind_fields("L1", ["orders"], FIELDS)
    assert base.digest == bind_fields("L1", ["orders", "joined"], FIELDS).digest
    assert base.digest != bind_fields("L2", ["orders"], FIELDS).digest
    assert base.digest != replace(base, generation=1).digest


def test_the_raw_print_is_the_keys_fingerprint_unsigned() -> None:
    builder = ContactBuilder(MAPPING)
    values: list[str | None] = [" A@Example.com ", "Ann", "Oslo", "gold", "3", "2024-01-31"]
    keyed = builder.key(list(values))
    assert not isinstance(keyed, str)
    assert builder.raw_print(list(values)) == keyed[1] & ((1 << 64) - 1)
    assert builder.raw_print([" ", *values[1:]]) is None


ADDRESS_PARTS = st.sampled_from(
    [
        "a",
        "b",
        "z9",
        "0",
        ".",
        "..",
        "-",
        "_",
        "+",
        "@",
        "xn--",
        "co",
        "com",
        "test",
        "localhost",
        "x",
        "é",
        " ",
        '"',
        "1",
        "io",
    ]
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(ADDRESS_PARTS, min_size=1, max_size=12).map("".join))
def test_the_plain_address_shortcut_never_accepts_what_email_validator_refuses(
    address: str,
) -> None:
    if plainly_valid(address):
        validate_email(
            address,
            check_deliverability=False,
            allow_smtputf8=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
        )


def test_ordinary_addresses_take_the_shortcut() -> None:
    assert plainly_valid("jane.doe+news@mail.example.com")
    assert not plainly_valid("jane@host.test")  # reserved: the full check refuses it
    assert not plainly_valid("jane@xn--bcher-kva.ch")  # IDN: the full check decides


@pytest.mark.parametrize(
    ("column", "value", "field"),
    [
        ("First", ["Ann", "Anna"], "first_name"),  # a key written twice (JSON Lines)
        ("City", {"name": "Oslo"}, "city"),  # a JSON object
        ("Tier", ["gold"], "custom field loyalty_tier"),  # a PostgreSQL array
    ],
)
def test_a_field_given_more_than_one_value_refuses_the_row_keeping_its_address(
    column: str, value: object, field: str
) -> None:
    # Its text was Python's spelling ("['Ann', 'Anna']"), sent as the first name; and
    # the JSON Lines reader refused the line without its address, taking a listed
    # contact for a leaver.
    builder = ContactBuilder(MAPPING)
    row: dict[str, object] = {"Email": "a@example.com", "First": "Ann", "City": "Oslo"}
    row |= {"Tier": "gold", "Orders": "3", "Joined": "2024-01-31", column: value}
    values = [row[c] for c in builder.columns]
    keyed = builder.key(values)
    assert not isinstance(keyed, str)
    assert keyed[0] == "a@example.com"
    assert builder.build_encoded(keyed[2]) == (
        f"{field} holds more than one value (a list, an object, or its key written twice)"
    )


def test_an_address_given_more_than_one_value_is_refused_as_no_one_address() -> None:
    builder = ContactBuilder(MAPPING)
    values = [["a@example.com", "b@example.com"], "Ann", "Oslo", "gold", "3", "2024-01-31"]
    assert builder.key(values) == (
        "email holds more than one value (a list, an object, or its key written twice)"
    )
    assert builder.email_key(values) is None


def test_a_list_nested_past_what_orjson_writes_is_still_not_one_value() -> None:
    # Turned into its text ("[[[…]]]") to be encodable, it was sent to a Text field.
    builder = ContactBuilder(MAPPING)
    deep: object = []
    for _ in range(300):
        deep = [deep]
    values = ["a@example.com", "Ann", "Oslo", deep, "3", "2024-01-31"]
    keyed = builder.key(values)
    assert not isinstance(keyed, str)
    assert builder.build_encoded(keyed[2]) == (
        "custom field loyalty_tier holds more than one value (a list, an object, or its key "
        "written twice)"
    )
