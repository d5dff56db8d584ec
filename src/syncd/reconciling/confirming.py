"""Confirming removals by search, one window of jobs behind.

Once a removal job has ended, its leavers are looked up to see them off the list
(`removing.record_confirmed`). The settle loop polls and closes jobs a window at a time
(`settling.POLL_AHEAD`), and while the removals' pages are sent, between two pages
(`settling_ahead`): a window's lookup goes in the background while the next window is
polled and closed, and what it found is recorded before the next lookup starts. Only
requests overlap: the ledger is still used by one call at a time, from the loop, and no
more searches are in flight than the client allows (`SEARCHES_AT_ONCE`, shared with the
lookups of the pages still to come). A window's leavers are thus recorded as removed
after the next window's jobs are closed; a stop or a crash between the two leaves them
sent and not yet confirmed, which the next run's lookup settles, as it does after any
removal whose search lags.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from syncd.ledger import Batch
from syncd.planning import RemovalAction
from syncd.reconciling.context import Outbox
from syncd.reconciling.removing import record_confirmed
from syncd.sendgrid import Lookup, let_go

Closed = list[tuple[Batch, list[str]]]
"""Removal batches whose jobs were accepted, each with the leavers it carried."""


@dataclass(frozen=True)
class _Asked:
    action: RemovalAction
    list_id: str
    emails: list[str]


class Confirmations:
    """The lookup of the last window of closed removal jobs, under way."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self._asked: list[_Asked] = []
        self._batches = 0
        self._looking: asyncio.Task[list[Lookup]] | None = None

    async def behind(self, closed: Closed) -> None:
        """Record what the last window's lookup found, then look this window's leavers up
        in the background."""
        await self.settle()
        if not closed:
            return
        grouped: dict[tuple[RemovalAction, str], list[str]] = {}
        for batch, emails in closed:
            action: RemovalAction = "remove" if batch.kind == "remove" else "delete"
            grouped.setdefault((action, batch.list_id), []).extend(emails)
        self._asked = [_Asked(*key, emails) for key, emails in grouped.items()]
        self._batches = len(closed)
        self._looking = asyncio.create_task(self._look_up(self._asked))

    async def settle(self) -> None:
        """Wait for the lookup under way, if any, and record what it found."""
        looking, self._looking = self._looking, None
        if looking is None:
            return
        found = await looking
        for asked, lookup in zip(self._asked, found, strict=True):
            await record_confirmed(self.outbox, asked.emails, lookup, asked.action, asked.list_id)
        self.outbox.result.batches_done += self._batches
        self._asked, self._batches = [], 0

    async def close(self) -> None:
        """A lookup still under way is not needed (the run stops or failed): its leavers
        stay sent, confirmed by a later run."""
        looking, self._looking = self._looking, None
        if looking is not None:
            await let_go(looking)

    async def _look_up(self, asked: list[_Asked]) -> list[Lookup]:
        return [await self.outbox.client.lookup(each.emails) for each in asked]
