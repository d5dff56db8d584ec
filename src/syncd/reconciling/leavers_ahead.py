"""The leavers, a page at a time, each page looked up ahead of its removals.

A run's leavers are read from the ledger in email order, `PAGE` at a time, and searched
for in the background (SendGrid only): the first pages while the upserts' jobs are still
waited for (a leaver is not in the segment, so nothing those jobs settle changes who
leaves), the next ones while the removals of the pages before them go.
"""

from __future__ import annotations

import asyncio
from collections import deque

from syncd.ledger import Leaver
from syncd.reconciling.context import Outbox
from syncd.reconciling.threads import in_thread
from syncd.sendgrid import Lookup, let_go

PAGE = 1_000
PAGES_AHEAD = 10
"""Pages looked up ahead of the page being removed: 10,000 leavers."""


class LeaversAhead:
    """Pages of leavers in email order, each looked up in the background (SendGrid only),
    up to `PAGES_AHEAD` ahead of the page being removed: the first ones while the
    upserts' jobs are still waited for. The lookups go one page after another, so no more
    searches are in flight than one lookup's. The pages are read from the ledger by the
    caller, one ledger call at a time, each before the page it follows is settled (its
    leavers come after that page's last email, which nothing done for that page changes;
    nor do the upserts' jobs: a leaver is not in the segment)."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.pages: deque[tuple[list[Leaver], asyncio.Task[Lookup]]] = deque()
        self.after = ""
        self.read_all = False

    @classmethod
    async def start(cls, outbox: Outbox) -> LeaversAhead:
        await in_thread(outbox.session.clear_returned)
        ahead = cls(outbox)
        await ahead._fill()
        return ahead

    async def next(self) -> tuple[list[Leaver], Lookup] | None:
        """The next page and what search found of it; None after the last page."""
        if not self.pages:
            return None
        page, looking = self.pages[0]
        found = await looking
        self.pages.popleft()
        await self._fill()
        return page, found

    async def close(self) -> None:
        """The lookups under way are not needed (the removals ended, or failed)."""
        while self.pages:
            await let_go(self.pages.pop()[1])

    async def _fill(self) -> None:
        while not self.read_all and len(self.pages) < PAGES_AHEAD:
            page = await in_thread(self.outbox.session.leavers, self.after, PAGE)
            if not page:
                self.read_all = True
                return
            self.after = page[-1].email
            previous = self.pages[-1][1] if self.pages else None
            self.pages.append((page, _look_up(self.outbox, page, previous)))


def _look_up(
    outbox: Outbox, page: list[Leaver], after: asyncio.Task[Lookup] | None
) -> asyncio.Task[Lookup]:
    """A page's leavers searched for in the background, once the page before it (`after`)
    has been looked up."""
    emails = [leaver.email for leaver in page]

    async def looking() -> Lookup:
        if after is not None:
            await asyncio.wait([after])  # its outcome is its own page's
        return await outbox.client.lookup(emails)

    return asyncio.create_task(looking())
