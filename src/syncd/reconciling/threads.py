"""Blocking work (the ledger, the sources) runs in worker threads, never on the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from syncd.ledger import Ledger, LedgerSession

T = TypeVar("T")


async def in_thread(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.to_thread(call, *args, **kwargs)


@asynccontextmanager
async def session_of(ledger: Ledger, name: str) -> AsyncIterator[LedgerSession]:
    """A destination's ledger session, opened and closed in worker threads."""
    manager = ledger.session(name)
    session = await in_thread(manager.__enter__)
    try:
        yield session
    finally:
        await in_thread(manager.__exit__, None, None, None)
