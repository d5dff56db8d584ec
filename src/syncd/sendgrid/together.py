"""Requests that wait on round trips, a few in flight at once.

A lookup of many addresses, the states of many open jobs: each request waits on SendGrid,
not on syncd, so a few go at once; the rate gate still holds each to its endpoint's
window. The answers come back in the order asked, and the first failure cancels the
others and is raised as it is (its caller handles a `SendGridUnavailable` or a refusal the
same way whether one request or several were in flight), never as an exception group.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


async def at_most(at_once: int, calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Every call's answer, in order, with at most `at_once` of them in flight."""
    if len(calls) <= 1:
        return [await call() for call in calls]
    gate = asyncio.Semaphore(at_once)
    answers: dict[int, T] = {}

    async def one(index: int, call: Callable[[], Awaitable[T]]) -> None:
        async with gate:
            answers[index] = await call()

    try:
        async with asyncio.TaskGroup() as group:  # one failing cancels the others
            for index, call in enumerate(calls):
                group.create_task(one(index, call))
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [answers[index] for index in range(len(calls))]


async def let_go(task: asyncio.Task[Any]) -> None:
    """A request started in the background and no longer needed: cancelled, waited for,
    and whatever it raised meanwhile retrieved and dropped (its caller asks again where the
    answer matters)."""
    task.cancel()
    await asyncio.wait([task])  # raises nothing of the task's
    if not task.cancelled():
        task.exception()
