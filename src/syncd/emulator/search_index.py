"""Search by email sees the account as it was `search_lag` seconds ago.

SendGrid processes contacts asynchronously and its search can lag minutes behind a completed
job (sendgrid-nodejs#1129). The emulator models that as an eventually consistent index, not
by delaying jobs: job status, list counts, exports and `GET /contacts/{id}` see every change
at once, while search/emails shows, for each email, what it found before the changes of the
last `search_lag` seconds (loop time), or nothing for a contact that is newer than that.

The store reports each change before making it (`Store.before_change`), with the emails
whose result it alters: the contact's primary email and its old and new alternate emails.
The index keeps what those emails found just before, for as long as the lag hides the change.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from syncd.emulator.store import Contact, Store


@dataclass(frozen=True)
class Sighting:
    """What a search for one email finds: the owning contact and its lists, at one moment."""

    contact: Contact
    list_ids: tuple[str, ...]


class SearchIndex:
    def __init__(self, store: Store, lag: Callable[[], float]) -> None:
        self._store = store
        self._lag = lag
        # email -> (loop time of a change, what the email found just before it), oldest first
        self._hidden: dict[str, list[tuple[float, Sighting | None]]] = {}
        self._changes: deque[tuple[float, str]] = deque()  # every entry above, by time

    def clear(self) -> None:
        self._hidden.clear()
        self._changes.clear()

    def before_change(self, emails: set[str]) -> None:
        lag = self._lag()
        if lag <= 0:
            self.clear()
            return
        now = asyncio.get_running_loop().time()
        self._reveal(now - lag)
        for email in emails:
            history = self._hidden.setdefault(email, [])
            # A second change at the same moment hides nothing more than the first one does.
            if not history or history[-1][0] != now:
                history.append((now, self.current(email)))
                self._changes.append((now, email))

    def find(self, email: str) -> Sighting | None:
        """What a search for this (trimmed, lower-cased) email finds now."""
        lag = self._lag()
        if lag <= 0:
            self.clear()
        elif self._hidden:
            self._reveal(asyncio.get_running_loop().time() - lag)
            history = self._hidden.get(email)
            if history:
                # Every change left is still hidden: search shows the state before the first.
                return history[0][1]
        return self.current(email)

    def current(self, email: str) -> Sighting | None:
        found = self._store.find(email)
        if found is None:
            return None
        return Sighting(found, tuple(self._store.list_ids_of(found.email)))

    def _reveal(self, cutoff: float) -> None:
        """Forgets the changes applied at or before `cutoff`: search sees them now."""
        while self._changes and self._changes[0][0] <= cutoff:
            _, email = self._changes.popleft()
            history = self._hidden.get(email)
            while history and history[0][0] <= cutoff:
                history.pop(0)
            if not history:
                self._hidden.pop(email, None)
