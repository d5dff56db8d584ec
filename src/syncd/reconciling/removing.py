"""Taking leavers off the list (or out of the account), until SendGrid's search confirms it.

A leaver stays acknowledged until a search shows it off the list (or gone); syncd never
trusts a 202 alone (SendGrid has accepted removals it did not apply) and never forgets a
leaver because search does not show it yet (search lags minutes behind jobs):

What to do with each leaver of a page, given what search found, is `leaver_sorting`'s
(found off the list before any removal was sent → done only once search has shown it
off for the grace it may lag: it may show the contact as it was before the upsert that
put it back on the list). A removal goes only to a contact search showed on the list, so
a later view showing it off proves the removal landed. This module
sends the removals through the outbox by contact id, records them, and confirms them.

Ids are taken only from contacts whose primary email is the leaver's: an alternate-email
match belongs to somebody else.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable

from syncd.errors import SendGridRejected
from syncd.ledger import Batch, BatchKind, OutboxItem, Rejection
from syncd.logs import get_logger
from syncd.planning import RemovalAction
from syncd.reconciling.context import Outbox
from syncd.reconciling.leaver_sorting import Sorted, needs_removal, sort_leavers
from syncd.reconciling.leavers_ahead import LeaversAhead
from syncd.reconciling.threads import in_thread
from syncd.sendgrid import (
    REMOVE_LIMIT,
    Lookup,
    Refusal,
    SendGridClient,
    at_most,
)

log = get_logger("syncd.reconciling")
ELSEWHERE = (
    "left the segment, but syncd put it on the destination's former list (listId changed), "
    "not on this one: it is not taken off this list (nor off the former one)"
)
REMOVALS_AT_ONCE = 4
"""Removal requests of a page in flight at once: each waits on a round trip."""


async def forget_moved_away(outbox: Outbox) -> None:
    """Leavers syncd put on the destination's former list (`listId` changed since), not on
    this one: reported and forgotten, never removed, whatever the removal guard says (taking
    them off this list would remove contacts others put there)."""
    if outbox.on_this_list is None:
        return
    moved = await in_thread(outbox.session.moved_away, outbox.on_this_list)
    if not moved:
        return
    await in_thread(outbox.session.drop_moved_away, moved)
    outbox.result.moved_away.extend(Rejection("", 0, ELSEWHERE, email) for email in moved)
    log.warning("reconcile.leavers_of_another_list", count=len(moved))


async def send_removals(
    outbox: Outbox,
    action: RemovalAction,
    ahead: LeaversAhead,
    between: Callable[[], Awaitable[None]],
) -> None:
    """Leavers a page at a time: each page's lookup waited for, the page sorted, settled,
    its removals sent, while the pages after it are looked up; after each page, `between`
    (`SettleAhead.between_batches`: the removal jobs of the pages before, recorded as they
    end)."""
    try:
        while (looked := await ahead.next()) is not None:
            page, found = looked
            held: set[str] = set()
            if action == "delete":  # never out of the account while another destination holds it
                held = await in_thread(outbox.session.held_elsewhere, [lv.email for lv in page])
            sorted_ = sort_leavers(
                page,
                found,
                action,
                list_id=outbox.list_id,
                limits=outbox.limits,
                now=outbox.clock.now(),
                held_elsewhere=held,
            )
            await _settle_page(outbox, sorted_)
            if action == "delete" and sorted_.remove:
                log.warning("reconcile.delete_held_elsewhere", count=len(sorted_.remove))
            await send_new_removals(outbox, "delete", sorted_.delete)
            await send_new_removals(outbox, "remove", sorted_.remove)
            await between()
    finally:  # the loop ended (or this page failed): the lookups under way are not needed
        await ahead.close()


async def _settle_page(outbox: Outbox, sorted_: Sorted) -> None:
    session = outbox.session
    if sorted_.done:
        await in_thread(session.removed, sorted_.done)
    if sorted_.given_up:  # left to the user, who is told once; `syncd explain` says so
        await in_thread(
            functools.partial(session.removed, list(sorted_.given_up), how="notRemoved")
        )
    if sorted_.missed:
        await in_thread(session.missed, sorted_.missed)
    outbox.result.removed += len(sorted_.done)
    outbox.result.rejections.extend(
        Rejection("", 0, reason, email) for email, reason in sorted_.given_up.items()
    )
    if sorted_.given_up:
        outbox.live.gave_up(len(sorted_.given_up), leavers=True)
        log.warning("reconcile.removal_given_up", count=len(sorted_.given_up))


async def send_new_removals(outbox: Outbox, kind: BatchKind, ids: dict[str, str]) -> None:
    """Contacts (email → contact id) taken off the list or deleted, `REMOVE_LIMIT` a
    batch: every batch recorded and its send counted before any request goes, then the
    requests `REMOVALS_AT_ONCE` in flight (each waits on a round trip), and each job id
    recorded as its batch's as soon as it is answered. A refused batch is then resolved
    as `send_removal_batch` resolves it."""
    pairs = list(ids.items())
    batches: list[tuple[Batch, list[str]]] = []
    for start in range(0, len(pairs), REMOVE_LIMIT):
        chunk = pairs[start : start + REMOVE_LIMIT]
        items = [OutboxItem(email, body=contact_id.encode()) for email, contact_id in chunk]
        batch = await outbox.open_batch(kind, items)
        await outbox.count_send(batch)
        batches.append((batch, [contact_id for _, contact_id in chunk]))
    recording = asyncio.Lock()  # one ledger write at a time

    async def send(batch: Batch, sent: list[str]) -> str | Refusal:
        answer = await _remove(outbox.client, batch, sent)
        if isinstance(answer, str):
            # Recorded as soon as it is known: a crash then repeats only the requests in
            # flight, not every batch of the page answered before it. Never abandoned
            # half-way when another request fails and this one is cancelled: the write
            # runs in a thread the cancel cannot stop, and the run goes on to use the
            # same session.
            async with recording:
                write = asyncio.ensure_future(outbox.submitted(batch, answer))
                try:
                    await asyncio.shield(write)
                except asyncio.CancelledError:
                    await asyncio.wait([write])
                    raise
        return answer

    calls = [functools.partial(send, batch, sent) for batch, sent in batches]
    answers = await at_most(REMOVALS_AT_ONCE, calls)
    for (batch, _), answer in zip(batches, answers, strict=True):
        if not isinstance(answer, str):
            recorded = await in_thread(outbox.session.items, batch.id)
            for again in await _resolve_again(outbox, batch, recorded, answer):
                await send_removal_batch(outbox, again)


async def send_removal_batch(outbox: Outbox, batch: Batch) -> None:
    """Send a removal batch by contact id; on a 404 (an id no longer exists) look the
    contacts up again: those gone or off the list are done, the others go with fresh ids,
    and a batch whose ids did not change is split until the missing id stands alone."""
    session = outbox.session
    waiting = [batch]
    while waiting:
        current = waiting.pop()
        await outbox.count_send(current)
        items = await in_thread(session.items, current.id)
        answer = await _remove(outbox.client, current, [body.decode() for _, body in items])
        if isinstance(answer, str):
            await outbox.submitted(current, answer)
        else:
            waiting += await _resolve_again(outbox, current, items, answer)


async def _remove(client: SendGridClient, batch: Batch, ids: list[str]) -> str | Refusal:
    """A removal batch's request: its job id, or SendGrid's refusal."""
    if batch.kind == "remove":
        return await client.remove_from_list(batch.list_id, ids)
    return await client.delete_contacts(ids)


async def _resolve_again(
    outbox: Outbox, batch: Batch, items: list[tuple[str, bytes]], refusal: Refusal
) -> list[Batch]:
    if refusal.status != 404:
        await in_thread(outbox.session.abandon, batch.id)
        raise SendGridRejected(
            f"SendGrid refused a removal request ({refusal.status}): {refusal.summary()}",
            status=refusal.status,
        )
    session = outbox.session
    action: RemovalAction = "remove" if batch.kind == "remove" else "delete"
    found = await outbox.client.lookup([email for email, _ in items])
    done = [
        email
        for email, _ in items
        if email not in found.found or not needs_removal(found.found[email], batch.list_id, action)
    ]
    fresh = {
        email: found.found[email].id.encode()
        for email, body in items
        if email not in done and found.found[email].id.encode() != body
    }
    if done:
        _count_done(outbox, len(done), await in_thread(session.removed, done))
    left = await in_thread(session.drop_items, batch, done) if done else len(items)
    if not left:
        return []
    if done or fresh:
        if fresh:
            await in_thread(session.set_bodies, batch, fresh)
        return [batch.again(left)]
    if left == 1:  # SendGrid says this id does not exist; search lags behind: it is gone
        await in_thread(session.drop_items, batch, [items[0][0]])
        _count_done(outbox, 1, await in_thread(session.removed, [items[0][0]]))
        return []
    second = await in_thread(session.split, batch, items[left // 2][0])
    return [second, batch.again(left - second.size)]


async def record_confirmed(
    outbox: Outbox, emails: list[str], found: Lookup, action: RemovalAction, list_id: str
) -> None:
    """After a removal job, what a lookup of its leavers `found`: done for those search
    shows off the list (or gone); the others stay pending until a later run's search
    confirms them."""
    done = [
        email
        for email in emails
        if email not in found.unsearchable
        and email not in found.unclear
        and (email not in found.found or not needs_removal(found.found[email], list_id, action))
    ]
    if done:
        _count_done(outbox, len(done), await in_thread(outbox.session.removed, done))


def _count_done(outbox: Outbox, done: int, erasures: int) -> None:
    """A removal batch carries leavers, or erasures (`syncd forget`): counted apart."""
    outbox.result.removed += done - erasures
    outbox.result.erased += erasures
