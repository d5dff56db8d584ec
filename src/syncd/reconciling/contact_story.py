"""The facts about one address, told: a state, a sentence, and the details behind them.

One `ContactInDestination` per destination that holds or held the address (or the one
asked about). The state is the contact's place in syncd's cycle: in a segment it is
`inSync`, `toAdd`, `toUpdate`, `sending` or `rejected`; out of every segment it is
`pendingRemoval`, `removing`, `removed` or `kept` (left, onLeave: keep); `erased` once
`syncd forget` erased it, wherever it is; `unknown` when nothing holds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from syncd.comparing import changes_from_held
from syncd.contacts import Built
from syncd.ledger import RETRY_BUDGET
from syncd.reconciling.batch_records import ended_batch, open_batch
from syncd.reconciling.contact_summary import drift_note, summary
from syncd.reconciling.explaining import Facts, LiveFacts, decoded
from syncd.shapes import (
    Acknowledgement,
    ContactInDestination,
    ContactState,
    Departure,
    ExplainDocument,
    FieldValue,
    LiveContact,
    PendingRemoval,
    RejectionRecord,
    SourceRow,
    iso,
    mask_email,
)

_NOT_SHOWN = ("email", "list_ids", "custom_fields")


def explain_document(
    facts: Sequence[Facts], email: str, *, show_emails: bool, asked: str | None = None
) -> ExplainDocument:
    """`asked`: the destination named by the caller, told even when it knows nothing."""
    told = [f for f in facts if f.rows or f.record.known or f.name == asked]
    return ExplainDocument(
        email=email if show_emails else mask_email(email),
        known=any(f.rows or f.record.known for f in facts),
        destinations=[story(f) for f in told],
    )


def story(facts: Facts) -> ContactInDestination:
    record = facts.record
    built = facts.built if isinstance(facts.built, Built) else None
    refused = _refusal(facts)
    rejection = _rejection(facts, refused)
    acked = record.acknowledged
    acknowledgement = None
    if acked is not None:
        acknowledgement = Acknowledgement(
            at=iso(acked.acked_at) or "",
            same_values=built.fingerprint == acked.fingerprint if built else None,
            batch=ended_batch(acked.batch),
        )
    state = _state(facts, refused, acknowledgement)
    return ContactInDestination(
        destination=facts.name,
        file=str(facts.loaded.path) if facts.loaded else None,
        state=state,
        summary=summary(state, facts, acknowledgement, rejection),
        rows=[
            SourceRow(
                segment=r.segment, row=r.row, used=i == 0, problem=refused if i == 0 else None
            )
            for i, r in enumerate(facts.rows)
        ],
        values=_values(orjson.loads(built.payload)) if built else [],
        acknowledged=acknowledgement,
        in_flight=open_batch(record.in_flight),
        rejection=rejection,
        pending_removal=PendingRemoval(
            first_missed_at=iso(record.removal.first_missed_at),
            sent_at=iso(record.removal.sent_at),
            sends=record.removal.sends,
        )
        if record.removal is not None and (not facts.rows or record.removal.sent_at)
        else None,
        departure=Departure(at=iso(record.departed.at) or "", how=record.departed.how)
        if record.departed is not None
        else None,
        live=_live(facts, state),
    )


def _refusal(facts: Facts) -> str | None:
    """Why syncd refuses the row it uses, now (its values, or how SendGrid takes them)."""
    for reason in (facts.built, facts.body):
        if isinstance(reason, str):
            return reason
    return None


def _rejection(facts: Facts, refused: str | None) -> RejectionRecord | None:
    record = facts.record
    if refused is not None:
        used = facts.rows[0]
        return RejectionRecord(reason=refused, segment=used.segment, row=used.row)
    if record.attempted is not None:
        tried = record.attempted
        return RejectionRecord(
            reason=tried.reason,
            segment=tried.segment or None,
            row=tried.row or None,
            attempts=tried.count,
            retries_left=max(0, RETRY_BUDGET - tried.count),
            batch=ended_batch(tried.batch),
        )
    last = record.rejection
    departed = record.departed
    if not facts.rows and departed is not None and departed.how != "notRemoved":
        return None  # taken off (or kept) since: a refusal before it is of another episode
    if last is not None and not (facts.rows and record.acknowledged):
        return RejectionRecord(
            reason=last.reason,
            segment=last.segment or None,
            row=last.row or None,
            at=iso(last.run_started_at),
        )
    return None


def _state(
    facts: Facts, refused: str | None, acknowledgement: Acknowledgement | None
) -> ContactState:
    record = facts.record
    flight = record.in_flight
    if facts.erased:
        return "erased"
    if facts.loaded is None:  # no valid file: in or out of the segment, nobody can say
        return "segmentsNotRead"
    if facts.rows:
        tried = record.attempted
        built = facts.built if isinstance(facts.built, Built) else None
        exhausted = (
            tried is not None
            and built is not None
            and tried.count >= RETRY_BUDGET
            and tried.fingerprint == built.fingerprint
        )
        if refused is not None or exhausted:
            return "rejected"
        if flight is not None and flight.kind == "upsert":
            return "sending"
        if acknowledgement is None:
            return "toAdd"
        return "inSync" if acknowledgement.same_values else "toUpdate"
    if flight is not None and flight.kind != "upsert":
        return "removing"
    if record.acknowledged is not None:
        return "pendingRemoval"
    if record.departed is not None:
        return record.departed.how
    return "unknown"


def _values(contact: Mapping[str, Any], only: Iterable[str] | None = None) -> list[FieldValue]:
    """A contact's fields by name (custom ones by name too), blank ones left out."""
    wanted = None if only is None else {name.lower() for name in only}
    values = [(k, v) for k, v in contact.items() if k not in _NOT_SHOWN]
    custom = contact.get("custom_fields")
    values += list(custom.items()) if isinstance(custom, Mapping) else []
    return [
        FieldValue(field=str(name), value=str(value))
        for name, value in values
        if value not in (None, "") and (wanted is None or str(name).lower() in wanted)
    ]


def _live(facts: Facts, state: ContactState) -> LiveContact | None:
    if facts.live_error is not None:
        return LiveContact(found=False, note=f"SendGrid could not be asked: {facts.live_error}")
    live: LiveFacts | None = facts.live
    if live is None:
        return None
    if live.unsearchable is not None:
        return LiveContact(found=False, note=live.unsearchable)
    found = live.found
    lag = "SendGrid's search can lag minutes behind its jobs"
    if found is None:
        return LiveContact(found=False, note=f"not in the account ({lag})")
    mapped = None
    if facts.loaded is not None:
        mapping = facts.loaded.definition.spec.mapping
        mapped = [*mapping.reserved(), *mapping.custom_fields]
    sent = decoded(facts.body)
    changes = changes_from_held(sent, found.fields, live.fields) if sent else []
    return LiveContact(
        found=True,
        on_list=live.list_id in found.list_ids,
        values=_values(found.fields, mapped),
        changes=changes,
        note=drift_note(state, facts.name, bool(changes), lag),
    )
