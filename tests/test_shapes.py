"""The JSON shapes: camelCase on the wire, RFC 3339 times, masked addresses, a schema each."""

from __future__ import annotations

import pytest

from syncd.shapes import (
    DOCUMENTS,
    Counts,
    Example,
    FieldChange,
    PlanDocument,
    iso,
    json_schema,
    mask_email,
)


def test_keys_go_out_in_camel_case_and_field_changes_as_from_and_to() -> None:
    example = Example(
        email="a***@example.com",
        changes=[FieldChange(field="first_name", before="Ana", after="Anna")],
    )
    assert example.wire()["changes"] == [{"field": "first_name", "from": "Ana", "to": "Anna"}]
    assert Counts(pending_removals=2).wire()["pendingRemovals"] == 2


def test_a_document_read_back_from_the_wire_is_the_same_document() -> None:
    document = PlanDocument.model_validate(
        {"destinations": [{"name": "d", "file": "d.yaml", "result": "changes"}]}
    )
    assert PlanDocument.model_validate(document.wire()) == document
    assert document.wire()["schemaVersion"] == "syncd/v1"


def test_times_are_rfc3339_utc_to_the_second() -> None:
    assert iso(1_800_000_000.75) == "2027-01-15T08:00:00Z"
    assert iso(None) is None


@pytest.mark.parametrize(
    ("email", "masked"),
    [("ann.lee@example.com", "a***@example.com"), ("x@y.io", "x***@y.io"), ("broken", "***")],
)
def test_addresses_are_masked_to_their_first_letter_and_domain(email: str, masked: str) -> None:
    assert mask_email(email) == masked


def test_counts_recorded_by_older_versions_read_with_zeros_for_what_they_lacked() -> None:
    counts = Counts.from_ledger({"upserted": 3, "an_old_key": 7})
    assert (counts.upserted, counts.pending_removals) == (3, 0)


@pytest.mark.parametrize("document", sorted(DOCUMENTS))
def test_every_document_has_a_versioned_json_schema(document: str) -> None:
    schema = json_schema(document)
    assert schema["properties"]["schemaVersion"]["const"] == "syncd/v1"
