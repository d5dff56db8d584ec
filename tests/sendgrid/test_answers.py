"""Reading SendGrid's answers: what the spec allows, taken as it means it."""

from __future__ import annotations

import pytest

from syncd.errors import SendGridUnavailable
from syncd.sendgrid.answers import count, job_id, path_id


@pytest.mark.parametrize(
    ("given", "read"),
    [(3, 3), (3.0, 3), (0, 0), (2.5, 0), (-1, 0), (True, 0), ("3", 0), (None, 0)],
)
def test_a_job_count_is_a_whole_non_negative_number(given: object, read: int) -> None:
    # The spec types the counts as `number`: 3.0 is three; anything else counts as none.
    assert count({"errored_count": given}, "errored_count") == read


@pytest.mark.parametrize(
    "given",
    # The spec's example, a UUID as SendGrid answers them, and shapes nobody documents
    # (an id is never refused for its shape alone).
    ["abc12312-x3y4-1234-abcd-123qwe456rty", "7d8e6675-8a79-4c82-a0a4-ff8854cd802b", "job.1:2"],
)
def test_a_job_id_is_taken_as_sendgrid_gives_it(given: str) -> None:
    assert job_id({"job_id": given}, "PUT /v3/marketing/contacts") == given


@pytest.mark.parametrize(
    "given",
    ["../lists/abc", "..", "a/b", "a?delete_contacts=true", "a%2Fb", "a b", "", "x" * 201, 7, None],
)
def test_a_job_id_that_would_change_the_path_it_is_polled_at_is_none(given: object) -> None:
    with pytest.raises(SendGridUnavailable, match="without a usable job id"):
        job_id({"job_id": given}, "PUT /v3/marketing/contacts")


@pytest.mark.parametrize(
    "given", ["../x", ".", "a/b", "a\\b", "a?b=c", "a#b", "a,b", "", "x" * 201, 7, None]
)
def test_an_id_bound_for_a_url_path_is_refused_unless_plain(given: object) -> None:
    # An export's, a new list's, a new field's: each goes into a URL path syncd requests.
    with pytest.raises(SendGridUnavailable, match="without a usable id"):
        path_id(given, "POST /v3/marketing/contacts/exports")
    assert path_id("0a1B-c_2", "POST /v3/marketing/contacts/exports") == "0a1B-c_2"
