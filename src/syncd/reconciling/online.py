"""`syncd validate --online`: a run's preflight for each destination, and nothing more.

For every destination: the key's scopes (`GET /v3/scopes`, once per key), its list, and
its mapped custom fields with their types, checked with the messages a run gives
(`preflight`). Every problem is reported; one does not hide the next. Only read requests
reach SendGrid and no source is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

from syncd.clock import SYSTEM_CLOCK
from syncd.contacts import FieldBinding
from syncd.contacts.values import CONVERTERS
from syncd.errors import SendGridRejected, SyncdError
from syncd.loading import LoadedDestination
from syncd.metrics import Metrics
from syncd.reconciling.connecting import destination_client
from syncd.reconciling.preflight import Preflight, fetch_list, scope_problem
from syncd.sendgrid import ListInfo, RateGates, SendGridClient
from syncd.sendgrid.scopes import READ, grants
from syncd.settings import Settings


@dataclass(frozen=True)
class OnlineCheck:
    destination: LoadedDestination
    problems: tuple[str, ...]
    """Each with what is wrong and how to fix it."""
    passed: str = ""
    """What was found in order, when there is no problem."""


async def check_online(
    destinations: Sequence[LoadedDestination], settings: Settings
) -> list[OnlineCheck]:
    """Every destination checked in turn, in the order given."""
    checker = _Checker(settings)
    async with aiohttp.ClientSession() as session:
        return [await checker.check(loaded, session) for loaded in destinations]


class _Checker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.preflight = Preflight(SYSTEM_CLOCK)  # asks for each key's scopes once
        self.gates = RateGates(SYSTEM_CLOCK, requests_per_second=settings.requests_per_second)
        self.metrics = Metrics()

    async def check(self, loaded: LoadedDestination, session: aiohttp.ClientSession) -> OnlineCheck:
        spec = loaded.definition.spec
        hint = spec.sendgrid.api_key.describe()
        try:
            client, key_id = await destination_client(
                loaded, self.settings, session, self.gates, self.metrics
            )
            scopes = await self.preflight.scopes(client, key_id)
        except SyncdError as error:  # no key, a refused key, SendGrid out of reach
            return OnlineCheck(loaded, (error.message,))
        problems = [problem] if (problem := scope_problem(scopes, spec, hint)) else []
        if not grants(scopes, READ):  # the list and fields cannot be read; the scope is named
            return OnlineCheck(loaded, tuple(problems))
        found: ListInfo | None = None
        try:
            found = await fetch_list(client, spec, hint)
        except SyncdError as error:
            problems.append(error.message)
            if isinstance(error, SendGridRejected) and error.status == 403:
                return OnlineCheck(loaded, tuple(problems))  # the fields would say it again
        fields = await _fields(client, loaded, problems)
        if problems or found is None:
            return OnlineCheck(loaded, tuple(problems))
        return OnlineCheck(
            loaded,
            (),
            f"the key from {hint} has the scopes needed; list {found.id} ({found.name}) "
            f"exists; {fields}",
        )


async def _fields(client: SendGridClient, loaded: LoadedDestination, problems: list[str]) -> str:
    """The mapped custom fields as found, or their problems added to `problems`."""
    try:
        binding = await Preflight.binding(client, loaded.definition.spec)
    except SyncdError as error:
        problems.append(error.message)
        return ""
    if not binding.custom_fields:
        return "no custom field mapped"
    odd = _unsendable(binding)
    if odd:
        problems.append(odd)
    found = ", ".join(f"{name} ({field.type})" for name, field in binding.custom_fields.items())
    return f"custom fields {found} exist"


def _unsendable(binding: FieldBinding) -> str | None:
    odd = [
        f"{name} is a {field.type} field"
        for name, field in binding.custom_fields.items()
        if field.type not in CONVERTERS
    ]
    if not odd:
        return None
    return (
        f"spec.mapping.custom_fields: {'; '.join(odd)} in SendGrid, and syncd sends "
        f"{', '.join(CONVERTERS)} values only: map other fields, or give these one of "
        "those types in SendGrid"
    )
