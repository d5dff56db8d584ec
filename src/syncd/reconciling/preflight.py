"""Before any write: the key may do what the destination needs, the list and fields exist.

`GET /v3/scopes` is asked once per key (again after `SCOPES_TTL`, in case the key was
changed): a missing scope fails the run before anything is written, naming each scope
and what it is for, instead of a bare 403 at the first removal. Scopes found wanting, or
followed by a 403 (`forget`), are asked again at the next run: the operator fixing the
key is seen at once, not an hour later. A 403 on the list
although the key has the read scope is the mark of an account without the new Marketing
Campaigns (a "legacy" account), and says so.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from syncd.clock import Clock
from syncd.contacts import FieldBinding, UnknownCustomFieldsError, bind_fields
from syncd.destinations import Spec
from syncd.errors import SendGridRejected, SourceInvalid
from syncd.sendgrid import ListInfo, SendGridClient, missing_scopes
from syncd.sendgrid.scopes import GRANTED_BY, READ

SCOPES_TTL = 3600.0


@dataclass(frozen=True)
class Checked:
    list: ListInfo
    binding: FieldBinding


class Preflight:
    """Remembers each key's scopes between runs (keys are told apart by a hash)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._scopes: dict[str, tuple[float, frozenset[str]]] = {}

    async def check(
        self, client: SendGridClient, spec: Spec, *, key_id: str, hint: str, erases: bool = False
    ) -> Checked:
        problem = scope_problem(await self.scopes(client, key_id), spec, hint, erases=erases)
        if problem is not None:
            self.forget(key_id)  # the operator may grant the scope before the next run
            raise SendGridRejected(problem, status=403)
        found = await fetch_list(client, spec, hint)
        return Checked(found, await self.binding(client, spec))

    async def scopes(self, client: SendGridClient, key_id: str) -> frozenset[str]:
        now = self.clock.now()
        cached = self._scopes.get(key_id)
        if cached is None or now - cached[0] > SCOPES_TTL:
            cached = (now, await client.scopes())
            self._scopes[key_id] = cached
        return cached[1]

    def forget(self, key_id: str) -> None:
        """Ask again next time (scopes found wanting, or a 403 since: the key changed)."""
        self._scopes.pop(key_id, None)

    @staticmethod
    async def binding(client: SendGridClient, spec: Spec) -> FieldBinding:
        wanted = list(spec.mapping.custom_fields)
        if not wanted:
            return FieldBinding(spec.sendgrid.list_id, {})
        try:
            return bind_fields(spec.sendgrid.list_id, wanted, await client.field_definitions())
        except UnknownCustomFieldsError as error:
            raise SourceInvalid(f"spec.mapping.custom_fields: {error}") from None


def scope_problem(
    scopes: Collection[str], spec: Spec, hint: str, *, erases: bool = False
) -> str | None:
    """What the key lacks for this destination (`spec.onLeave` decides the delete scope, and
    so does an erasure to carry out in SendGrid)."""
    missing = missing_scopes(scopes, removes=spec.on_leave != "keep", erases=erases)
    if not missing:
        return None
    needs = "; ".join(f"{scope} ({why})" for scope, why in missing.items())
    return (
        f"the API key from {hint} lacks the scope(s) {needs}: nothing was written. "
        "Give the key these permissions in SendGrid (Settings > API Keys), or use "
        "another key"
    )


async def fetch_list(client: SendGridClient, spec: Spec, hint: str) -> ListInfo:
    """The destination's list; a 403 for a key that may read is the mark of a legacy account."""
    try:
        return await client.get_list(spec.sendgrid.list_id)
    except SendGridRejected as error:
        if error.status == 403:
            raise SendGridRejected(
                f"SendGrid refused to show list {spec.sendgrid.list_id} (403) although the "
                f"key from {hint} has a scope to read it: the account may use legacy "
                "Marketing Campaigns, whose lists syncd cannot reach (syncd needs the new "
                "Marketing Campaigns, contacts API v3 /marketing), or SendGrid wants the "
                f"other read scope ({' and '.join(GRANTED_BY[READ])} both exist: give the "
                "key both)",
                status=403,
            ) from None
        raise
