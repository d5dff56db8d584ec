"""Reading SendGrid's refusals: which elements of a body they name, if any."""

from __future__ import annotations

import pytest

from syncd.errors import SendGridUnavailable
from syncd.sendgrid.refusals import refusal


def errors(*pairs: tuple[str | None, str]) -> dict[str, object]:
    return {"errors": [{"field": field, "message": message} for field, message in pairs]}


def test_a_refusal_naming_contacts_points_at_those_elements() -> None:
    refused = refusal(
        400,
        errors(
            ("contacts[3].custom_fields.e2_N", "must be a number"),
            ("contacts[3].first_name", "too long"),
            ("contacts[7].email", "invalid email"),
        ),
    )
    assert refused.target("contacts") == "elements"
    assert refused.elements("contacts", 10) == {
        3: "custom_fields.e2_N: must be a number; first_name: too long",
        7: "email: invalid email",
    }


def test_indexes_beyond_the_body_are_ignored() -> None:
    refused = refusal(400, errors(("contacts[12].email", "invalid email")))
    assert refused.elements("contacts", 10) == {}


@pytest.mark.parametrize(
    "body",
    [
        errors((None, "invalid custom field ids supplied - e9_T")),
        errors(("null", "invalid custom field ids supplied - e9_T")),
        errors(("contacts", "too many contacts")),
    ],
)
def test_a_refusal_naming_nothing_concerns_the_whole_body(body: object) -> None:
    assert refusal(400, body).target("contacts") == "whole"


@pytest.mark.parametrize("status", [400, 422])
@pytest.mark.parametrize(
    "body",
    [
        "<html>400 Bad Request</html>",
        None,
        {},
        {"error": "x"},
        {"errors": []},  # names no error at all
        {"message": "Bad Request"},  # a gateway's, not SendGrid's single {field, message}
        {"errors": "Bad Request"},
    ],
)
def test_an_answer_without_sendgrids_error_body_is_no_refusal_of_the_body(
    status: int, body: object
) -> None:
    # A proxy's page: read as a refusal naming nobody, the body was split down to single
    # contacts and each was charged, then given up on, though SendGrid never saw them.
    with pytest.raises(SendGridUnavailable, match=f"answered {status} without its error body"):
        refusal(status, body)
    assert refusal(413, body).target("contacts") == "whole"  # the size, whoever says it
    # A removal's 404 without a body still means "an id does not exist": looked up again.
    assert refusal(404, body).target("contacts") == "whole"


def test_a_body_too_large_concerns_the_whole_body() -> None:
    assert refusal(413, errors(("contacts[0].email", "whatever"))).target("contacts") == "whole"


def test_a_refusal_of_another_part_of_the_request_is_not_about_the_contacts() -> None:
    assert refusal(400, errors(("list_ids", "not a uuid"))).target("contacts") == "other"
    assert refusal(400, errors(("list_ids[0]", "not found"))).target("contacts") == "other"


def test_an_element_path_with_dots_names_the_element() -> None:
    refused = refusal(400, errors(("contacts.4.email", "invalid email")))
    assert refused.target("contacts") == "elements"
    assert refused.elements("contacts", 10) == {4: "email: invalid email"}
    assert refusal(400, errors(("contacts.45", "bad"))).elements("contacts", 50) == {45: "bad"}


@pytest.mark.parametrize("field", ["email", "first_name", "custom_fields.e2_N", "contacts.x"])
def test_a_field_named_some_other_way_is_searched_for_by_splitting(field: str) -> None:
    # The spec types `field` as any string: a spelling syncd does not know is taken to be
    # about some contact (split until it stands alone), never a reason to give up the lot.
    assert refusal(400, errors((field, "is invalid"))).target("contacts") == "whole"


def test_the_summary_keeps_sendgrids_words_without_the_index() -> None:
    refused = refusal(400, errors(("contacts[0].custom_fields.e2_N", "x" * 1000)))
    assert refused.summary().startswith("custom_fields.e2_N: x")
    assert len(refused.summary()) <= 300
    assert refusal(413, {"errors": []}).summary() == "HTTP 413"


def test_a_single_error_object_as_some_operations_specify_it_keeps_sendgrids_words() -> None:
    # A list removal's 400 is one `{"field", "message"}` in the spec, not `{"errors": [...]}`.
    refused = refusal(400, {"field": "contact_ids", "message": "invalid contact ids"})
    assert refused.summary() == "invalid contact ids"
    assert refused.target("contacts") == "whole"
