"""Why one address is (not) on a destination's list: the facts, gathered (`syncd explain`).

For each destination: the segment rows that hold the address (every segment is read in
full, as a sync reads it, without staging anything: a file is streamed, a SQL source
runs its query once), the values syncd maps from the row it uses, everything the ledger
knows (`Ledger.contact`), and, with `live`, what SendGrid's search shows now (the only
request made, with the field definitions to compare values). `contact_story` tells it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from syncd.contacts import Built, ContactBuilder, CustomField, FieldBinding, Outgoing
from syncd.contacts.addresses import address_key
from syncd.contacts.values import Refused
from syncd.errors import DefinitionError, SyncdError
from syncd.ledger import ContactRecord, Ledger
from syncd.loading import LoadedDestination
from syncd.reconciling.run import Reconciler
from syncd.sendgrid import Found
from syncd.sources import BadRow, Stopping, never, open_segment


@dataclass(frozen=True)
class FoundRow:
    segment: str
    row: int
    values: list[Any]


@dataclass(frozen=True)
class LiveFacts:
    found: Found | None
    list_id: str
    fields: dict[str, tuple[str, str]]
    """Custom field id → (name, type), as SendGrid defines them now."""
    unsearchable: str | None = None


@dataclass
class Facts:
    name: str
    loaded: LoadedDestination | None
    """None: the ledger knows the destination, the directory no longer has its file."""
    record: ContactRecord
    rows: list[FoundRow] = field(default_factory=list)
    built: Built | str | None = None
    """The contact from the row used, or why syncd refuses that row."""
    body: bytes | str | None = None
    """What syncd would send (custom fields by id), or why it would refuse it."""
    live: LiveFacts | None = None
    live_error: str | None = None
    erased: bool = False
    """`syncd forget` erased the address for this destination: no run sends it."""
    guard: str | None = None
    """What the removal guard said, when it stopped the destination's last run."""


def email_key(written: str) -> str:
    """The address as syncd keys it (as SendGrid stores it); refused without an @."""
    try:
        key = address_key(written)
    except Refused as refused:
        raise DefinitionError(str(refused)) from None
    if "@" not in key:
        raise DefinitionError("email is not a valid address: no @")
    return key


async def gather(
    reconciler: Reconciler,
    ledger: Ledger,
    destinations: Mapping[str, LoadedDestination | None],
    email: str,
    *,
    live: bool,
    stopping: Stopping = never,
) -> list[Facts]:
    """The facts about `email` in each destination (name → its file, None when gone)."""
    found: list[Facts] = []
    erased = set(await asyncio.to_thread(ledger.forgotten_scopes, email))
    for name, loaded in sorted(destinations.items()):
        record = await asyncio.to_thread(ledger.contact, name, email)
        facts = Facts(name, loaded, record, erased=bool(erased & {"", name}))
        last = await asyncio.to_thread(ledger.runs, name, 1)
        if last and last[0].outcome == "guard":
            facts.guard = last[0].error
        if loaded is not None:
            await _from_sources(facts, loaded, email, stopping)
            if live:
                try:
                    facts.live = await _live(reconciler, facts, loaded, email)
                except SyncdError as error:
                    facts.live_error = error.message
        found.append(facts)
    return found


async def _from_sources(
    facts: Facts, loaded: LoadedDestination, email: str, stopping: Stopping
) -> None:
    spec = loaded.definition.spec
    builder = ContactBuilder(spec.mapping)
    facts.rows = await asyncio.to_thread(find_rows, loaded, builder, email, stopping)
    binding = ledger_binding(spec.sendgrid.list_id, spec.mapping.custom_fields, facts.record)
    if facts.rows:
        facts.built = builder.build(facts.rows[0].values)
        if isinstance(facts.built, Built):
            facts.body = Outgoing(binding, spec.mapping).encode_fields(facts.built.fields)


def find_rows(
    loaded: LoadedDestination, builder: ContactBuilder, email: str, stopping: Stopping
) -> list[FoundRow]:
    """Every row of every segment keyed as `email`, in the order a sync stages them."""
    found = []
    for segment in loaded.definition.spec.segments:
        source = open_segment(
            segment, base_dir=loaded.path.parent, allowlists=loaded.allowlists, stopping=stopping
        )
        for number, values in source.rows(builder.columns):
            if isinstance(values, BadRow):
                continue
            row = values if type(values) is list else list(values)
            keyed = builder.key(row)
            if not isinstance(keyed, str) and keyed[0] == email:
                found.append(FoundRow(segment.name, number, row))
    return found


def ledger_binding(list_id: str, mapped: Mapping[str, str], record: ContactRecord) -> FieldBinding:
    """The custom fields as syncd last sent them (ids from the ledger, no request), to tell
    whether a value would be refused; a field not sent yet goes by its name."""
    fields = {}
    for name in mapped:
        known = record.fields.get(name.lower())
        fields[name] = (
            CustomField(known[0], known[1].split()[0]) if known else CustomField(name, "Text")
        )
    return FieldBinding(list_id, fields)


async def _live(
    reconciler: Reconciler, facts: Facts, loaded: LoadedDestination, email: str
) -> LiveFacts:
    lookup, binding = await reconciler.look_up(loaded, email)
    spec = loaded.definition.spec
    if isinstance(facts.built, Built):  # compare with what would be sent to this binding
        facts.body = Outgoing(binding, spec.mapping).encode_fields(facts.built.fields)
    return LiveFacts(
        found=lookup.found.get(email),
        list_id=spec.sendgrid.list_id,
        fields={f.id: (name, f.type) for name, f in binding.custom_fields.items()},
        unsearchable=lookup.unsearchable.get(email) or lookup.unclear.get(email),
    )


def decoded(body: bytes | str | None) -> dict[str, Any] | None:
    return orjson.loads(body) if isinstance(body, bytes) else None
