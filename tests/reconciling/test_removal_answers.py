"""Removals and searches against answers that are not what they seem: a proxy's page,
a search answer that cannot be read, a request failing beside another's ledger write."""

from __future__ import annotations

import asyncio
import time
from typing import cast

import pytest

from syncd.emulator import FaultRule
from syncd.errors import SendGridRejected
from syncd.ledger import Batch, Leaver, OutboxItem
from syncd.reconciling.context import Limits, Outbox
from syncd.reconciling.leaver_sorting import Sorted, sort_leavers
from syncd.reconciling.removing import send_new_removals
from syncd.sendgrid import Lookup
from tests.reconciling.world import World, emails, people

SEARCH = "POST /v3/marketing/contacts/search/emails"


@pytest.mark.parametrize("template", ["PUT /v3/marketing/contacts", SEARCH])
async def test_a_proxys_400_page_is_a_temporary_failure_charging_nobody(
    sync_world: World, template: str
) -> None:
    # Read as SendGrid refusing the body while naming nobody, it split the upsert down to
    # single contacts and charged each ("HTTP 400"), and gave a leaver's removal up: the
    # five changed contacts were never sent again, the leaver stayed listed for good.
    w = sync_world
    rows = people(0, 40)
    w.destination({"vip": w.csv("vip", rows)})
    assert (await w.sync()).outcome == "success"
    changed = [{**row, "FirstName": "Changed"} if i < 5 else row for i, row in enumerate(rows)]
    w.csv("vip", changed[:-1])
    w.emulator.faults.add(FaultRule(kind="status", template=template, status=400, page=True))

    failed = await w.sync()

    assert failed.outcome == "temporary"
    assert failed.error is not None
    assert "answered 400 without its error body" in failed.error
    assert failed.not_carried_out == []
    w.emulator.faults.clear()
    healed = await w.sync()
    assert healed.outcome == "success"
    assert healed.not_carried_out == []
    assert w.members() == emails(changed[:-1])
    assert {
        w.emulator.state.contacts[row["EmailAddress"].lower()].fields["first_name"]
        for row in changed[:5]
    } == {"Changed"}


def test_an_answer_that_cannot_be_read_keeps_the_leaver_pending_until_the_window_ends() -> None:
    # One odd answer (a match without its primary email, say) gave the leaver up at once,
    # for good, though the next search would have answered plainly.
    limits = Limits(removal_window=3600.0)
    odd = Lookup(
        unclear={"a@x.io": "SendGrid's search answered with a contact but not its primary email"}
    )

    def sort(first_missed_at: float | None, sent_at: float | None = None) -> Sorted:
        leaver = Leaver("a@x.io", first_missed_at=first_missed_at, sent_at=sent_at, sends=1)
        return sort_leavers([leaver], odd, "remove", list_id="L", limits=limits, now=5000.0)

    assert sort(first_missed_at=None) == Sorted(missed=["a@x.io"])  # asked again later
    assert sort(first_missed_at=4000.0) == Sorted(missed=["a@x.io"])
    # Missed long ago, then found and its removal sent: the window counts from the send.
    assert sort(first_missed_at=1000.0, sent_at=4900.0) == Sorted(missed=["a@x.io"])
    given_up = sort(first_missed_at=1000.0).given_up["a@x.io"]
    assert given_up == (
        "left the segment but stays on the list: SendGrid's search answered with a contact "
        "but not its primary email, for 60 min"
    )


async def test_a_removal_failing_never_leaves_another_ones_ledger_write_running() -> None:
    # The write of a job id ran in a thread that cancelling its task did not stop, while
    # the run went on to use the same ledger session from another thread.
    writes: list[str] = []

    class Client:
        async def remove_from_list(self, list_id: str, ids: list[str]) -> str:
            if ids[0] == "id-b":
                await asyncio.sleep(0.05)
                raise SendGridRejected("the key was revoked", status=401)
            return "job-a"

    class FakeOutbox:
        client = Client()

        async def open_batch(self, kind: str, items: list[OutboxItem]) -> Batch:
            first = items[0].email
            return Batch(ord(first[0]), "remove", "prepared", "L", None, 0.0, None, len(items))

        async def count_send(self, batch: Batch) -> None:
            return None

        async def submitted(self, batch: Batch, job_id: str) -> None:
            def write() -> None:
                writes.append("started")
                time.sleep(0.3)
                writes.append("finished")

            await asyncio.to_thread(write)

    ids = {f"a{n:03}@x.io": "id-a" for n in range(100)} | {"b@x.io": "id-b"}
    with pytest.raises(SendGridRejected):
        await send_new_removals(cast(Outbox, FakeOutbox()), "remove", ids)
    assert writes == ["started", "finished"]
