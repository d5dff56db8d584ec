"""The API key scopes syncd needs, by what a destination does: one rule, one place.

SendGrid's spec maps no scope to any Marketing endpoint (`GET /v3/scopes` only lists a
key's scopes). The names below are those SendGrid's API key permissions use for Marketing
Campaigns; which of them each endpoint really checks is not documented, so syncd asks
for the smallest set that covers what it calls (docs/sendgrid-fidelity.md), and
`syncd probe --live` prints the scopes of a real key.
"""

from __future__ import annotations

from collections.abc import Collection

READ = "marketing.read"
CREATE = "marketing_campaigns.create"
UPDATE = "marketing_campaigns.update"
DELETE = "marketing_campaigns.delete"


def required_scopes(*, removes: bool, erases: bool = False) -> dict[str, str]:
    """Scope → what it is needed for, for a destination that removes contacts or not, and
    for an erasure request (`syncd forget --delete-in-sendgrid`)."""
    needed = {
        READ: "to read the list, the custom fields, jobs and searches",
        CREATE: "to add contacts",
        UPDATE: "to update contacts",
    }
    if removes:
        needed[DELETE] = "to take contacts that left the segment off the list (spec.onLeave)"
    if erases:
        needed[DELETE] = "to delete the contacts syncd forget is asked to delete"
    return needed


def missing_scopes(
    granted: Collection[str], *, removes: bool, erases: bool = False
) -> dict[str, str]:
    return {
        scope: why
        for scope, why in required_scopes(removes=removes, erases=erases).items()
        if scope not in granted
    }
