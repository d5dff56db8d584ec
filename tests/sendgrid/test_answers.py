"""Reading SendGrid's answers: what the spec allows, taken as it means it."""

from __future__ import annotations

import pytest

from syncd.sendgrid.answers import count


@pytest.mark.parametrize(
    ("given", "read"),
    [(3, 3), (3.0, 3), (0, 0), (2.5, 0), (-1, 0), (True, 0), ("3", 0), (None, 0)],
)
def test_a_job_count_is_a_whole_non_negative_number(given: object, read: int) -> None:
    # The spec types the counts as `number`: 3.0 is three; anything else counts as none.
    assert count({"errored_count": given}, "errored_count") == read
