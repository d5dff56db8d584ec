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


def required_scopes(*, removes: bool) -> dict[str, str]:
    """Scope → what it is needed for, for a destination that removes contacts or not."""
    needed = {
        READ: "to read the list, the custom fields, jobs and searches",
        CREATE: "to add contacts",
        UPDATE: "to update contacts",
    }
    if removes:
        needed[DELETE] = "to take contacts that left the segment off the list (spec.onLeave)"
    return needed


def missing_scopes(granted: Collection[str], *, removes: bool) -> dict[str, str]:
    return {
        scope: why
        for scope, why in required_scopes(removes=removes).items()
        if scope not in granted
    }
