"""The API key scopes syncd needs, by what a destination does: one rule, one place.

SendGrid's spec maps no scope to any Marketing endpoint (`GET /v3/scopes` only lists a
key's scopes). The names below are those SendGrid's API key permissions use for Marketing
Campaigns; which of them each endpoint really checks is not documented, so syncd asks
for the smallest set that covers what it calls (docs/sendgrid-fidelity.md), and
`syncd probe --live` prints the scopes of a real key.

Reading has two names: SendGrid's permission lists give "Full Access" to Marketing as
`marketing_campaigns.create/delete/read/update`, some with `marketing.read` besides,
some without it. A key with either read scope passes the check: the check only spares a
run that would certainly fail, and a key SendGrid finds short answers 403 anyway (the
destination then stalls with SendGrid's reason). Refusing a key SendGrid would accept
would stop every run for nothing.
"""

from __future__ import annotations

from collections.abc import Collection

READ = "marketing.read"
READ_ALSO = "marketing_campaigns.read"
CREATE = "marketing_campaigns.create"
UPDATE = "marketing_campaigns.update"
DELETE = "marketing_campaigns.delete"
GRANTED_BY: dict[str, tuple[str, ...]] = {READ: (READ, READ_ALSO)}
"""A needed scope → the scopes any one of which grants it (itself alone when not listed)."""


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


def grants(granted: Collection[str], scope: str) -> bool:
    """Whether a key holding `granted` has `scope` (or a scope that stands for it)."""
    return any(name in granted for name in GRANTED_BY.get(scope, (scope,)))


def missing_scopes(
    granted: Collection[str], *, removes: bool, erases: bool = False
) -> dict[str, str]:
    """Each needed scope the key lacks, named as it may be granted (`a or b`) → why."""
    return {
        " or ".join(GRANTED_BY.get(scope, (scope,))): why
        for scope, why in required_scopes(removes=removes, erases=erases).items()
        if not grants(granted, scope)
    }
