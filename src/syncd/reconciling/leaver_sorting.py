"""What to do with each leaver of a page, given what SendGrid's search found (pure).

- found, primary email equal, on the list → to remove (or delete) by contact id;
- found off the list, or not found, after a removal was sent → done;
- found off the list before any removal was sent → done once search has shown it off
  for `search_lag_grace` (it may show the contact as it was before a re-add; a removal
  sent then would be confirmed by that same stale view), looked at again meanwhile;
- not found, never sent → missed: looked for again for `removal_window`, then given up;
- an address search cannot take (over 100 characters, refused) → given up at once;
- an answer that cannot be read (no id, primary email or lists) → asked again, given up
  only once `removal_window` has passed since it was last found or sent;
- a removal sent but still showing after `search_lag_grace` → sent again, at most
  `MAX_REMOVAL_SENDS` times, then given up.

And what to do with each leaver back in the segment after its removal was sent
(`sort_returning`): held until search shows the removal landed, or its grace passed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from syncd.ledger import Leaver, Returning
from syncd.planning import RemovalAction
from syncd.reconciling.context import Limits
from syncd.sendgrid import Found, Lookup

MAX_REMOVAL_SENDS = 3


@dataclass
class Sorted:
    """One page of leavers, by what to do with each."""

    remove: dict[str, str] = field(default_factory=dict)  # email → contact id: off the list
    delete: dict[str, str] = field(default_factory=dict)  # email → contact id: out of the account
    done: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    given_up: dict[str, str] = field(default_factory=dict)  # email → why


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
        elif leaver.sent_at is not None and not needs_removal(contact, list_id, action_here):
            result.done.append(email)  # off the list since syncd's removal
        elif not needs_removal(contact, list_id, action_here):
            # Off the list before any removal went: search may show it as it was before a
            # re-add (it lags behind jobs), and a removal sent now would be confirmed by the
            # same stale view. Done once search has shown it off for the grace it may lag.
            if _off_for_the_grace(leaver, limits, now):
                result.done.append(email)
            else:
                result.missed.append(email)
        elif leaver.sent_at is not None and in_grace(leaver.sent_at, limits, now):
            continue  # sent: waiting for search to show it
        elif leaver.sends >= MAX_REMOVAL_SENDS:
            result.given_up[email] = (
                f"left the segment; SendGrid accepted its removal {leaver.sends} times but "
                "still shows it on the list: remove it by hand and check SendGrid's status"
            )
        else:
            (result.delete if action_here == "delete" else result.remove)[email] = contact.id
    return result


def in_grace(sent_at: float, limits: Limits, now: float) -> bool:
    """A removal sent at `sent_at` may not show in search yet (`search_lag_grace`)."""
    return now - sent_at < limits.search_lag_grace


def _off_for_the_grace(leaver: Leaver, limits: Limits, now: float) -> bool:
    """Search has not shown it on the list since `search_lag_grace` ago or longer: no
    re-add of syncd's can be missing from its view (a leaver is not sent)."""
    since = leaver.first_missed_at
    return since is not None and now - since >= limits.search_lag_grace


def _window_over(leaver: Leaver, limits: Limits, now: float, *, since_sent: bool = False) -> bool:
    """Searched for since longer than the removal window without an answer to act on;
    `since_sent`: counted from its removal's send, when later (it was found then)."""
    since = leaver.first_missed_at
    if since_sent and since is not None and leaver.sent_at is not None:
        since = max(since, leaver.sent_at)
    return since is not None and now - since >= limits.removal_window


def sort_returning(
    back: list[Returning], lookup: Lookup, *, list_id: str, limits: Limits, now: float
) -> tuple[list[str], list[str]]:
    """Leavers back in the segment after their removal was sent, as (released, held): a
    re-add before SendGrid applies that removal would be undone by it. Released once search
    shows the contact off the list or out of the account (the removal landed), or once
    `search_lag_grace` has passed since the removal went (it was not applied, or the audit
    must tell: a re-add of a contact still on the list changes nothing); held otherwise,
    an answer that cannot be read included. Addresses search cannot take are released
    (no removal by id was ever sent for one)."""
    released: list[str] = []
    held: list[str] = []
    for leaver in back:
        email = leaver.email
        contact = lookup.found.get(email)
        if not in_grace(leaver.sent_at, limits, now) or email in lookup.unsearchable:
            released.append(email)
        elif email in lookup.unclear:
            held.append(email)
        elif contact is None or not needs_removal(contact, list_id, "remove"):
            released.append(email)
        else:
            held.append(email)
    return released, held


def needs_removal(contact: Found, list_id: str, action: RemovalAction) -> bool:
    return action == "delete" or list_id in contact.list_ids
