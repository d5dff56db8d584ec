"""What a dry run finds a sync would send and refuse, with a few examples of each kind.

The examples are taken in the one pass that counts the contacts to send (email order,
the first `EXAMPLES` of each kind): never a second read of the segment. An update's
changes are from what SendGrid holds: one search for the (at most `EXAMPLES`) updates,
`POST /v3/marketing/contacts/search/emails`, a read. The ledger keeps fingerprints, not
values: keeping every body acknowledged cost 186 MB for 1M contacts (the ledger's 86 MB
tripled), compressing them 48 µs a contact; one search costs neither, and shows what the
sync would overwrite, a marketer's edit included (search can lag minutes behind
SendGrid's jobs). Addresses are kept whole here; whoever shows the examples masks them
(`syncd.shapes.mask_email`) unless personal data was asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from syncd.comparing import changes_from_held, field_changes
from syncd.contacts import FieldBinding, Outgoing
from syncd.ledger import RETRY_BUDGET, LedgerSession, Rejection, StagedContact
from syncd.reconciling.report import Preview, RunReport
from syncd.reconciling.threads import in_thread
from syncd.sendgrid import SendGridClient
from syncd.shapes import Example, Examples, FieldChange

EXAMPLES = 10
"""Examples kept per kind (add, update, remove, rejected)."""
PAGE = 5000


async def preview(
    session: LedgerSession,
    outgoing: Outgoing,
    segments: Sequence[str],
    report: RunReport,
    client: SendGridClient,
) -> None:
    """Count what `send_upserts` would send and refuse, without preparing anything, and
    keep examples of each kind in `report.examples`."""
    report.rejections = await in_thread(session.exhausted, RETRY_BUDGET, segments)
    report.preview = counted = Preview()
    names = {field.id: name for name, field in outgoing.binding.custom_fields.items()}
    adds: list[Example] = []
    updates: list[tuple[StagedContact, bytes]] = []
    after = ""
    while page := await in_thread(session.to_send, RETRY_BUDGET, after, PAGE):
        after = page[-1].email
        for contact in page:
            body = outgoing.encode(contact.payload)
            if isinstance(body, str):
                segment = segments[contact.segment]
                report.rejections.append(Rejection(segment, contact.row, body, contact.email))
            elif contact.is_new:
                counted.adds += 1
                if len(adds) < EXAMPLES:
                    changes = field_changes(None, orjson.loads(body), names)
                    adds.append(_example(contact, segments, changes))
            else:
                counted.updates += 1
                if len(updates) < EXAMPLES:
                    updates.append((contact, body))
    report.examples = Examples(
        add=adds,
        update=await _updates(client, updates, segments, outgoing.binding),
        remove=await _removals(session, report),
        rejected=[_rejected(r) for r in [*report.staged.rejections, *report.rejections][:EXAMPLES]],
    )


def _example(
    contact: StagedContact, segments: Sequence[str], changes: list[FieldChange]
) -> Example:
    return Example(
        email=contact.email, segment=segments[contact.segment], row=contact.row, changes=changes
    )


async def _updates(
    client: SendGridClient,
    updates: list[tuple[StagedContact, bytes]],
    segments: Sequence[str],
    binding: FieldBinding,
) -> list[Example]:
    if not updates:
        return []
    found = (await client.lookup([contact.email for contact, _ in updates])).found
    fields = {f.id: (name, f.type) for name, f in binding.custom_fields.items()}
    names = {field_id: name for field_id, (name, _) in fields.items()}
    examples = []
    for contact, body in updates:
        sent = orjson.loads(body)
        held = found.get(contact.email)
        if held is None:  # not searchable yet: its values, from null
            changes = field_changes(None, sent, names)
        else:
            changes = changes_from_held(sent, held.fields, fields)
            if binding.list_id not in held.list_ids:  # a listId change, or taken off by hand
                changes.insert(0, FieldChange(field="listId", after=binding.list_id))
        examples.append(_example(contact, segments, changes))
    return examples


async def _removals(session: LedgerSession, report: RunReport) -> list[Example]:
    """The first leavers, whether or not a guard holds their removal back (a reviewer
    sees who would leave); none when leavers are only forgotten (onLeave: keep)."""
    plan = report.plan
    if plan is None or not plan.diff.gone or plan.removal_action == "forget":
        return []
    return [Example(email=email) for email in await in_thread(session.gone, "", EXAMPLES)]


def _rejected(rejection: Rejection) -> Example:
    """A row refused (the source's, or SendGrid's), or a leaver that could not be removed
    (no segment, row 0)."""
    return Example(
        email=rejection.email,
        segment=rejection.segment or None,
        row=rejection.row or None,
        reason=rejection.reason,
    )
