"""Faults of SendGrid's jobs, as the job tests set them up and read their outcome."""

from __future__ import annotations

import asyncio

from syncd.emulator import Emulator, FaultRule
from syncd.reconciling import RunReport
from tests.reconciling.world import World

UPSERT = "PUT /v3/marketing/contacts"
SEARCH = "POST /v3/marketing/contacts/search/emails"
JOB = "GET /v3/marketing/contacts/imports/{id}"


def refuse_in_the_next_job(emulator: Emulator, victims: list[str], reason: str = "bad") -> None:
    """The next upsert job rejects these contacts (once), applying the rest."""
    emulator.faults.add(
        FaultRule(kind="job_errored", template=UPSERT, emails=victims, reason=reason, times=1)
    )


def rejected(report: RunReport) -> dict[str, str]:
    """Email → why, of the contacts a run reports as rejected."""
    return {r.email: r.reason for r in report.rejections}


async def outlived_by_its_job(w: World, *, job_delay: float) -> None:
    """A sync whose job is still pending when the run gives up waiting (it ends
    `temporary`, the batch left open), then the job's end waited for: the next sync
    finishes it."""
    waits = w.settings.job_timeout
    w.settings = w.settings.model_copy(update={"job_timeout": 0.2})
    left_open = await w.sync()
    assert left_open.outcome == "temporary", left_open.error
    await asyncio.sleep(job_delay + 0.5)
    w.settings = w.settings.model_copy(update={"job_timeout": waits})
