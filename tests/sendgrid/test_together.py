"""Requests in the background: one no longer needed is let go, whatever it came to."""

from __future__ import annotations

import asyncio

from syncd.errors import SendGridUnavailable
from syncd.sendgrid import let_go


async def test_a_request_still_waiting_is_cancelled() -> None:
    never = asyncio.Event()
    task = asyncio.create_task(never.wait())
    await asyncio.sleep(0)

    await let_go(task)

    assert task.cancelled()


async def test_a_request_that_failed_meanwhile_is_dropped_not_raised() -> None:
    async def failing() -> None:
        raise SendGridUnavailable("connection refused")

    task = asyncio.create_task(failing())
    await asyncio.wait([task])

    await let_go(task)  # raises nothing

    assert isinstance(task.exception(), SendGridUnavailable)
