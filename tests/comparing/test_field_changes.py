"""What a plan shows of a changed contact: field by field, from what SendGrid holds."""

from __future__ import annotations

from syncd.comparing import changes_from_held, field_changes
from syncd.shapes import FieldChange

NAMES = {"e1_T": "loyalty_tier", "e2_N": "orders"}


def change(field: str, before: str | None, after: str | None) -> FieldChange:
    return FieldChange(field=field, before=before, after=after)


def test_only_the_fields_that_differ_are_listed_with_custom_fields_by_name() -> None:
    before = {
        "email": "ana@example.com",
        "first_name": "Ana",
        "last_name": "Lee",
        "custom_fields": {"e1_T": "gold", "e2_N": 3},
    }
    after = {
        "email": "ana@example.com",
        "first_name": "Anna",
        "last_name": "Lee",
        "custom_fields": {"e1_T": "gold", "e2_N": 4},
    }
    assert field_changes(before, after, NAMES) == [
        change("first_name", "Ana", "Anna"),
        change("orders", "3", "4"),
    ]


def test_a_blank_value_reads_as_null_and_a_value_cleared_is_a_change_to_null() -> None:
    before = {"email": "a@x.io", "first_name": "Ana", "city": ""}
    after = {"email": "a@x.io", "first_name": "", "city": ""}
    assert field_changes(before, after, NAMES) == [change("first_name", "Ana", None)]


def test_a_new_contact_shows_every_value_it_brings() -> None:
    after = {"email": "a@x.io", "first_name": "Ana", "custom_fields": {"e1_T": "gold"}}
    assert field_changes(None, after, NAMES) == [
        change("first_name", None, "Ana"),
        change("loyalty_tier", None, "gold"),
    ]


def test_a_field_id_no_longer_bound_is_shown_by_its_id() -> None:
    before = {"email": "a@x.io", "custom_fields": {"e9_T": "old"}}
    assert field_changes(before, {"email": "a@x.io"}, NAMES) == [change("e9_T", "old", None)]


def test_equal_bodies_have_no_changes_even_when_a_number_is_spelled_differently() -> None:
    assert (
        field_changes({"custom_fields": {"e2_N": 3}}, {"custom_fields": {"e2_N": 3.0}}, NAMES) == []
    )


FIELDS = {
    "e1_T": ("loyalty_tier", "Text"),
    "e2_N": ("orders", "Number"),
    "e3_D": ("joined", "Date"),
}


def test_changes_from_what_sendgrid_holds_compare_values_as_sendgrid_takes_them() -> None:
    sent = {
        "email": "a@x.io",
        "first_name": "Anna",
        "city": "",
        "custom_fields": {"e1_T": "gold", "e2_N": 3, "e3_D": "01/05/2024"},
    }
    held = {
        "email": "a@x.io",
        "first_name": "Ana",
        "city": "Berlin",
        "phone_number": "not mapped, never compared",
        "custom_fields": {
            "Loyalty_Tier": "gold",
            "orders": "3.0",
            "joined": "2024-01-05T00:00:00Z",
        },
    }
    assert changes_from_held(sent, held, FIELDS) == [
        change("first_name", "Ana", "Anna"),
        change("city", "Berlin", None),
    ]
