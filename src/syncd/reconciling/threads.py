"""Blocking work (the ledger, the sources) runs in worker threads, never on the event loop.

Normally in the loop's default executor, which the daemon's runs, metrics and health
checks share: it has min(32, CPUs + 4) threads, and a read that ignores its stop signal
holds one for as long as it lasts. Work that a request may start on files nobody
reviewed (a plan) runs instead in threads of its own (`own_threads`): one a call,
daemon threads (a stuck one never holds the process's exit), never the shared ones. How
many there are is bounded by whoever starts such work (the planner's slots).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

from syncd.ledger import Ledger, LedgerSession

T = TypeVar("T")

_OWN_THREADS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "syncd_own_threads", default=False
)


@contextmanager
def own_threads() -> Iterator[None]:
    """`in_thread` calls of this task, and of the tasks it starts meanwhile, run each in a
    thread of its own instead of the loop's default executor."""
    token = _OWN_THREADS.set(True)
    try:
        yield
    finally:
        _OWN_THREADS.reset(token)


async def in_thread(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    if not _OWN_THREADS.get():
        return await asyncio.to_thread(call, *args, **kwargs)
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def work() -> None:
        try:
            result = context.run(call, *args, **kwargs)
        except BaseException as error:  # handed to the awaiting task
            _settle_soon(loop, done, done.set_exception, error)
        else:
            _settle_soon(loop, done, done.set_result, result)

    threading.Thread(target=work, name="syncd-own", daemon=True).start()
    return await done


def _settle_soon(
    loop: asyncio.AbstractEventLoop,
    done: asyncio.Future[Any],
    settle: Callable[[Any], None],
    value: object,
) -> None:
    def if_awaited() -> None:
        if not done.cancelled():  # cancelled: nobody waits any more
            settle(value)

    with contextlib.suppress(RuntimeError):  # the loop closed while the call ran
        loop.call_soon_threadsafe(if_awaited)


@asynccontextmanager
async def session_of(ledger: Ledger, name: str) -> AsyncIterator[LedgerSession]:
    """A destination's ledger session, opened and closed in worker threads."""
    manager = ledger.session(name)
    session = await in_thread(manager.__enter__)
    try:
        yield session
    finally:
        await in_thread(manager.__exit__, None, None, None)
