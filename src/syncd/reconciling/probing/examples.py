"""The probe's three example contacts, sent to its scratch list in one upsert (step 3).

One holds `""` for the Number and the Date field, one a Number and a Date in MM/DD/YYYY,
one an address syncd itself refuses. When SendGrid refuses the request whole, the
contacts its errors name are set aside and the rest sent again; when it names none, each
contact goes alone. Either way both behaviours are seen: refused up front, or rejected in
the job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

import orjson

from syncd.contacts import CustomField
from syncd.sendgrid import Refusal, SendGridClient, upsert_body

Role = Literal["blank", "date", "invalid"]
ROLES: Final[tuple[Role, ...]] = ("blank", "date", "invalid")
NUMBER_FIELD: Final = "syncd_probe_number"
DATE_FIELD: Final = "syncd_probe_date"
FIELD_TYPES: Final[Mapping[str, str]] = {NUMBER_FIELD: "Number", DATE_FIELD: "Date"}
NUMBER_SENT: Final = 42
DATE_SENT: Final = "03/15/2024"
"""A day after the 12th, so that a day-first reading is no date at all."""


@dataclass(frozen=True)
class Examples:
    """Throw-away addresses under a domain the user chose, marked with a random token."""

    token: str
    domain: str

    @property
    def prefix(self) -> str:
        return f"syncd-probe-{self.token}"

    def address(self, role: Role) -> str:
        if role == "invalid":  # two dots in a row: no valid address has them
            return f"{self.prefix}..invalid@{self.domain}"
        return f"{self.prefix}-{role}@{self.domain}"

    def role_of(self, email: str) -> Role | None:
        return next((role for role in ROLES if self.address(role) == email.lower()), None)

    def contact(self, role: Role, fields: Mapping[str, CustomField]) -> bytes:
        number, date = fields[NUMBER_FIELD].id, fields[DATE_FIELD].id
        contact: dict[str, object] = {"email": self.address(role)}
        if role == "blank":
            contact["custom_fields"] = {number: "", date: ""}
        elif role == "date":
            contact["custom_fields"] = {number: NUMBER_SENT, date: DATE_SENT}
        return orjson.dumps(contact)


@dataclass(frozen=True)
class Fate:
    """What became of one example contact."""

    how: Literal["refused up front", "rejected in the job", "accepted", "unaccounted", "unknown"]
    """`unaccounted`: its job errored, and its errors file does not name it (search tells)."""
    reason: str = ""


@dataclass
class Sent:
    """What became of the example contacts' upserts."""

    first: Refusal | str | None = None
    """SendGrid's answer to the request holding all three: a refusal, or a job id."""
    refused: dict[Role, str] = field(default_factory=dict)
    """Refused up front, with SendGrid's reason."""
    jobs: dict[str, list[Role]] = field(default_factory=dict)
    """Job id → the contacts it carries."""


async def send_examples(
    client: SendGridClient,
    examples: Examples,
    list_id: str,
    fields: Mapping[str, CustomField],
    sent: Sent,
    possibly_present: set[str],
) -> None:
    """Upsert the three to the list, filling `sent`; every address that goes out in a
    request is added to `possibly_present` first (the clean-up looks for them)."""

    async def upsert(roles: list[Role]) -> Refusal | str:
        possibly_present.update(examples.address(role) for role in roles)
        body = upsert_body(list_id, [examples.contact(role, fields) for role in roles])
        answer = await client.upsert(body)
        if isinstance(answer, str):
            sent.jobs[answer] = roles
        return answer

    pending = list(ROLES)
    answer = sent.first = await upsert(pending)
    while isinstance(answer, Refusal):
        named = answer.elements("contacts", len(pending))
        if answer.target("contacts") != "elements" or not named:
            break
        sent.refused.update((pending[index], reason) for index, reason in named.items())
        pending = [role for index, role in enumerate(pending) if index not in named]
        if not pending:
            break
        answer = await upsert(pending)
    if isinstance(answer, Refusal) and pending:  # nothing usable named: each alone
        if len(pending) == 1:
            sent.refused[pending[0]] = answer.summary()
        else:
            for role in pending:
                alone = await upsert([role])
                if isinstance(alone, Refusal):
                    sent.refused[role] = alone.summary()
    possibly_present.difference_update(examples.address(role) for role in sent.refused)
