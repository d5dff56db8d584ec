"""Sending contacts: packing them into batches, and isolating what SendGrid refuses.

SendGrid may refuse a whole upsert request for one bad contact. Its answer may name the
contacts (`contacts[3].custom_fields.e2_N`): those are given up (reported with SendGrid's
reason, sent again only when their values change) and the rest goes again at once. When
the answer names nothing, the batch is split in halves until each refused contact stands
alone, about 2·k·log2(n) requests for k refused contacts among n. Every change to a batch
is committed before its next request, so a refused body is never sent again unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from syncd import failpoints
from syncd.contacts import FieldBinding, Outgoing
from syncd.errors import SendGridRejected
from syncd.ledger import RETRY_BUDGET, Batch, OutboxItem, StagedContact
from syncd.logs import get_logger
from syncd.reconciling.context import Outbox
from syncd.reconciling.threads import in_thread
from syncd.sendgrid import Packer, Refusal, upsert_body

log = get_logger("syncd.reconciling")
PAGE = 5_000
Between = Callable[[], Awaitable[None]]
"""Called after each batch is sent (`SettleAhead.between_batches`)."""


class Batcher:
    """Encoded contacts packed greedily into batches, in arrival order: each batch is
    recorded in the outbox, then sent, as soon as the next contact would not fit."""

    def __init__(self, outbox: Outbox, binding: FieldBinding, between: Between) -> None:
        self.outbox = outbox
        self.between = between
        self.digest = binding.digest
        self.packer = Packer(binding.list_id)
        self.items: list[OutboxItem] = []

    def fits(self, encoded: bytes) -> bool:
        """Whether `encoded` fits in the batch being packed (else: `flush` first)."""
        return self.packer.fits(len(encoded))

    def add(self, contact: StagedContact, segment: str, encoded: bytes) -> None:
        # Not a coroutine: called for every contact, it awaits nothing.
        self.packer.add(len(encoded))
        self.items.append(
            OutboxItem(
                contact.email,
                contact.fingerprint,
                self.digest,
                encoded,
                segment,
                contact.row,
                contact.raw,
            )
        )

    async def flush(self) -> None:
        items, self.items = self.items, []
        self.packer.reset()
        if items:
            await send_upsert_batch(
                self.outbox, await self.outbox.open_batch("upsert", items), items
            )
            await self.between()


async def send_upserts(outbox: Outbox, outgoing: Outgoing, between: Between) -> None:
    """Every contact that differs from SendGrid, packed greedily into batches and sent."""
    session = outbox.session
    batcher = Batcher(outbox, outgoing.binding, between)
    refused: list[tuple[StagedContact, str, str]] = []
    after = ""
    while page := await in_thread(session.to_send, RETRY_BUDGET, after, PAGE):
        after = page[-1].email
        for contact in page:
            segment = outbox.segment_names[contact.segment]
            encoded = outgoing.encode(contact.payload)
            if isinstance(encoded, str):
                refused.append((contact, segment, encoded))
            else:
                if not batcher.fits(encoded):
                    await batcher.flush()
                batcher.add(contact, segment, encoded)
    await batcher.flush()
    await in_thread(session.give_up, refused)
    outbox.live.gave_up(len(refused))


async def send_upsert_batch(
    outbox: Outbox, batch: Batch, prepared: Sequence[OutboxItem] = ()
) -> None:
    """Send a batch recorded in the outbox; whatever SendGrid refuses is isolated and the
    rest sent. `prepared`: the items the batch was just recorded with (committed), so its
    first body needs no read back; every later body is read from the ledger."""
    waiting = [batch]
    while waiting:
        current = waiting.pop()
        await outbox.count_send(current)
        if prepared and current is batch:
            items = sorted((i.email, i.body) for i in prepared)
        else:
            items = await in_thread(outbox.session.items, current.id)
        failpoints.hit("before-upsert-request")
        answer = await outbox.client.upsert(upsert_body(current.list_id, [b for _, b in items]))
        if isinstance(answer, str):
            await outbox.submitted(current, answer)
        else:
            waiting += await _isolate(outbox, current, [email for email, _ in items], answer)


async def _isolate(
    outbox: Outbox, batch: Batch, emails: list[str], refusal: Refusal
) -> list[Batch]:
    """What is left to send of a refused batch, after taking out what SendGrid named."""
    target = refusal.target("contacts")
    named = refusal.elements("contacts", len(emails)) if target == "elements" else {}
    if target == "other":
        # Not about the contacts (the list ids, say): no split can fix it.
        await in_thread(outbox.session.abandon, batch.id)
        raise SendGridRejected(
            f"SendGrid refused the upsert request ({refusal.status}): {refusal.summary()}",
            status=refusal.status,
        )
    if named or len(emails) == 1:
        reasons = (
            {emails[i]: reason for i, reason in named.items()}
            if named
            else {emails[0]: refusal.summary()}
        )
        rejections, left = await in_thread(outbox.session.refuse, batch, reasons)
        outbox.result.rejections.extend(rejections)
        outbox.result.refused += len(rejections)
        outbox.live.gave_up(len(rejections))
        log.info("reconcile.refused", batch=batch.id, refused=len(rejections), left=left)
        return [batch.again(left)] if left else []
    # The split point in the ledger's own order of the batch (its collation), whatever
    # order the body was sent in: both halves are then never empty.
    ordered = await in_thread(outbox.session.emails, batch.id)
    middle = ordered[len(ordered) // 2]
    second = await in_thread(outbox.session.split, batch, middle)
    log.info("reconcile.split", batch=batch.id, into=second.id, size=len(emails))
    return [second, batch.again(len(emails) - second.size)]
