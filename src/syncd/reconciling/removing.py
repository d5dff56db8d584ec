"""Taking leavers off the list (or out of the account), until SendGrid's search confirms it.

A leaver stays acknowledged until a search shows it off the list (or gone); syncd never
trusts a 202 alone (SendGrid has accepted removals it did not apply) and never forgets a
leaver because search does not show it yet (search lags minutes behind jobs):

- found, primary email equal, on the list → removed through the outbox by contact id;
- found off the list, or not found, after a removal was sent → done;
- found off the list before any removal was sent → removed all the same: search lags
  behind jobs, and may show the contact as it was before the upsert that put it back
  on the list (a leaver who came back and left again); removing a contact that is not
  on the list changes nothing;
- not found, never sent → looked for again on later runs for `removal_window`, then
  reported as not in SendGrid;
- an address search cannot take (over 100 characters, refused) → reported at once;
- a removal sent but still showing after `search_lag_grace` → sent again, at most
  `MAX_REMOVAL_SENDS` times, then reported.

Ids are taken only from contacts whose primary email is the leaver's: an alternate-email
match belongs to somebody else.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field

from syncd.errors import SendGridRejected
from syncd.ledger import Batch, BatchKind, Leaver, OutboxItem, Rejection
from syncd.logs import get_logger
from syncd.planning import RemovalAction
from syncd.reconciling.context import Limits, Outbox
from syncd.reconciling.leavers_ahead import LeaversAhead
from syncd.reconciling.threads import in_thread
from syncd.sendgrid import (
    REMOVE_LIMIT,
    Found,
    Lookup,
    Refusal,
    SendGridClient,
    at_most,
)

log = get_logger("syncd.reconciling")
MAX_REMOVAL_SENDS = 3
ELSEWHERE = (
    "left the segment, but syncd put it on the destination's former list (listId changed), "
    "not on this one: it is not taken off this list (nor off the former one)"
)
REMOVALS_AT_ONCE = 4
"""Removal requests of a page in flight at once: each waits on a round trip."""


@dataclass
class Sorted:
    """One page of leavers, by what to do with each."""

    remove: dict[str, str] = field(default_factory=dict)  # email → contact id: off the list
    delete: dict[str, str] = field(default_factory=dict)  # email → contact id: out of the account
    done: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    given_up: dict[str, str] = field(default_factory=dict)  # email → why


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


def sort_leavers(
    page: list[Leaver],
    lookup: Lookup,
    action: RemovalAction,
    *,
    list_id: str,
    limits: Limits,
    now: float,
    held_elsewhere: Collection[str] = (),
) -> Sorted:
    """What to do with each leaver of a page, given what search found (pure). The leavers
    of a former list are not among them (`forget_moved_away`). With `deleteContact`, a
    leaver another destination holds is only taken off this list (`held_elsewhere`)."""
    result = Sorted()
    for leaver in page:
        email = leaver.email
        contact = lookup.found.get(email)
        action_here: RemovalAction = "remove" if email in held_elsewhere else action
        if email in lookup.unsearchable:
            result.given_up[email] = (
                f"left the segment but stays on the list: {lookup.unsearchable[email]}"
            )
        elif email in lookup.unclear:  # asked again, until the removal window ends
            if _window_over(leaver, limits, now, since_sent=True):
                result.given_up[email] = (
                    f"left the segment but stays on the list: {lookup.unclear[email]}, "
                    f"for {limits.removal_window / 60:.0f} min"
                )
            else:
                result.missed.append(email)
        elif contact is None:
            if leaver.sent_at is not None:
                result.done.append(email)  # removed, or deleted from the account meanwhile
            elif _window_over(leaver, limits, now):
                result.given_up[email] = (
                    "left the segment, but SendGrid's search has not found it for "
                    f"{limits.removal_window / 60:.0f} min: it is not in SendGrid (or not "
                    "searchable), so nothing was removed"
                )
            else:
                result.missed.append(email)
        elif leaver.sent_at is not None and not _needs_removal(contact, list_id, action_here):
            result.done.append(email)  # off the list since syncd's removal
        elif leaver.sent_at is not None and now - leaver.sent_at < limits.search_lag_grace:
            continue  # sent: waiting for search to show it
        elif leaver.sends >= MAX_REMOVAL_SENDS:
            result.given_up[email] = (
                f"left the segment; SendGrid accepted its removal {leaver.sends} times but "
                "still shows it on the list: remove it by hand and check SendGrid's status"
            )
        else:
            (result.delete if action_here == "delete" else result.remove)[email] = contact.id
    return result


def _window_over(leaver: Leaver, limits: Limits, now: float, *, since_sent: bool = False) -> bool:
    """Searched for since longer than the removal window without an answer to act on;
    `since_sent`: counted from its removal's send, when later (it was found then)."""
    since = leaver.first_missed_at
    if since_sent and since is not None and leaver.sent_at is not None:
        since = max(since, leaver.sent_at)
    return since is not None and now - since >= limits.removal_window


def _needs_removal(contact: Found, list_id: str, action: RemovalAction) -> bool:
    return action == "delete" or list_id in contact.list_ids


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
        if email not in found.found or not _needs_removal(found.found[email], batch.list_id, action)
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
        and (email not in found.found or not _needs_removal(found.found[email], list_id, action))
    ]
    if done:
        _count_done(outbox, len(done), await in_thread(outbox.session.removed, done))


def _count_done(outbox: Outbox, done: int, erasures: int) -> None:
    """A removal batch carries leavers, or erasures (`syncd forget`): counted apart."""
    outbox.result.removed += done - erasures
    outbox.result.erased += erasures
