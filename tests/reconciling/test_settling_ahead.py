"""The jobs of a long send are recorded as they end, between its batches (`SettleAhead`),
with the outbox's promise unchanged: acknowledged only after the job, in the order sent."""

from __future__ import annotations

import functools
import sqlite3

import pytest

from syncd import failpoints
from syncd.emulator import Emulator, EmulatorConfig, FaultRule
from syncd.reconciling import leavers_ahead, upserting
from syncd.sendgrid import Packer
from tests.fixtures_emulator import strict_emulator_config
from tests.reconciling.world import World, emails, people

UPSERT = "PUT /v3/marketing/contacts"
JOB = "GET /v3/marketing/contacts/imports/{id}"
REMOVE = "DELETE /v3/marketing/lists/{id}/contacts"


@pytest.fixture(autouse=True)
def batches_of_ten(monkeypatch: pytest.MonkeyPatch) -> None:
    """100 contacts make ten batches: a long send, small enough for a test."""
    monkeypatch.setattr(upserting, "Packer", functools.partial(Packer, max_contacts=10))


def ended_batches(w: World, kind: str = "upsert") -> list[tuple[int, float, float, str]]:
    """(batch, submitted at, ended at, outcome) of every batch of `kind` recorded as ended."""
    with sqlite3.connect(w.settings.state) as db:
        rows = db.execute(
            "SELECT batch_id, submitted_at, ended_at, outcome FROM sent_batches"
            " WHERE kind = ? ORDER BY batch_id",
            (kind,),
        ).fetchall()
    db.close()
    return [(int(b), float(s), float(e), str(o)) for b, s, e, o in rows]


def recorded_before_the_last_request(w: World, kind: str = "upsert") -> list[int]:
    batches = ended_batches(w, kind)
    last_sent = max(submitted for _, submitted, _, _ in batches)
    return [batch for batch, _, ended, _ in batches if ended < last_sent]


async def sent_in_ten_batches(w: World) -> None:
    """A hundred contacts synced, ten batches of ten: every one lands and is acknowledged."""
    rows = people(0, 100)
    w.destination({"vip": w.csv("vip", rows)})

    report = await w.sync()

    assert report.outcome == "success", report.error
    assert report.counts()["upserted"] == 100
    assert w.emulator.count_requests(template=UPSERT) == 10
    assert w.members() == emails(rows)


async def test_jobs_that_ended_are_acknowledged_before_the_send_is_over_in_order(
    sync_world: World,
) -> None:
    w = sync_world
    await sent_in_ten_batches(w)
    early = recorded_before_the_last_request(w)
    assert early, "every job was recorded after the last request"
    ended_order = [b for b, _, _, _ in sorted(ended_batches(w), key=lambda row: row[2])]
    assert ended_order == sorted(ended_order)  # recorded in the order sent
    again = await w.sync()
    assert (again.outcome, again.counts()["upserted"]) == ("success", 0)


async def test_an_errored_job_recorded_during_the_send_charges_only_its_rejected(
    sync_world: World,
) -> None:
    w = sync_world
    rows = people(0, 100)
    victims = sorted(emails(rows))[:2]  # the first batch: sent in email order
    w.destination({"vip": w.csv("vip", rows)})
    w.emulator.faults.add(
        FaultRule(kind="job_errored", template=UPSERT, emails=victims, reason="invalid email")
    )

    report = await w.sync()

    assert (report.counts()["upserted"], report.counts()["rejected"]) == (98, 2)
    assert w.members() == emails(rows) - set(victims)
    first = ended_batches(w)[0]
    assert first[3] == "partlyRejected"
    assert first[0] in recorded_before_the_last_request(w)


async def test_a_run_that_dies_while_recording_during_the_send_sends_nothing_twice(
    sync_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = sync_world
    rows = people(0, 100)
    w.destination({"vip": w.csv("vip", rows)})
    monkeypatch.setattr(failpoints, "_ARMED", {"after-completed-before-ack": ("raise", 1)})
    monkeypatch.setattr(failpoints, "_HITS", {})

    broken = await w.sync()

    assert broken.outcome == "unexpected"
    assert w.emulator.count_requests(template=UPSERT) < 10  # it died during the send
    monkeypatch.setattr(failpoints, "_ARMED", {})
    healed = await w.sync()
    assert healed.outcome == "success", healed.error
    assert w.members() == emails(rows)
    assert w.sent_contacts() == 100  # a recorded job is polled again, never sent again
    assert (await w.sync()).counts()["upserted"] == 0


async def test_a_look_still_waiting_when_the_send_ends_is_waited_for_then_settled(
    sync_world: World,
) -> None:
    w = sync_world
    rows = people(0, 100)
    w.destination({"vip": w.csv("vip", rows)})
    w.emulator.faults.add(FaultRule(kind="delay", template=JOB, seconds=0.3))

    report = await w.sync()

    assert report.outcome == "success", report.error
    assert report.counts()["upserted"] == 100
    assert w.members() == emails(rows)
    assert w.sent_contacts() == 100


async def test_the_removal_jobs_of_earlier_pages_are_recorded_while_later_pages_go(
    sync_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """35 leavers of 200 in seven pages of five, each removal answered 0.2 s late: the
    removal job of a page is polled after the next page's removal and recorded after the
    one after (its leavers confirmed then), so the first four are closed before the last
    page's removal goes, in the order sent, and every leaver is confirmed in this run."""
    w = sync_world
    rows = people(0, 200)
    w.destination({"vip": w.csv("vip", rows)})
    await w.sync()
    w.csv("vip", rows[35:])
    monkeypatch.setattr(leavers_ahead, "PAGE", 5)
    w.emulator.faults.add(FaultRule(kind="delay", template=REMOVE, seconds=0.2))

    report = await w.sync()

    assert report.outcome == "success", report.error
    assert (report.applied.removed, report.applied.pending_removals) == (35, 0)
    assert w.members() == emails(rows[35:])
    assert w.emulator.count_requests(template=REMOVE) == 7
    sent_order = [b for b, _, _, _ in ended_batches(w, "remove")]
    assert recorded_before_the_last_request(w, "remove") == sent_order[:4]
    ended_order = [b for b, _, _, _ in sorted(ended_batches(w, "remove"), key=lambda r: r[2])]
    assert ended_order == sorted(ended_order)
    assert (await w.sync()).counts()["gone"] == 0


class TestAnAccountThatFillsUpDuringTheSend:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(contact_limit=25)

    async def test_the_batches_applied_before_are_kept_and_the_rest_land_later(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        w = sync_world
        rows = people(0, 100)
        w.destination({"vip": w.csv("vip", rows)})

        full = await w.sync()

        assert (full.outcome, full.recheck) == ("permanent", True)
        assert "you have hit your contact limit" in (full.error or "")
        assert full.rejected == 0  # nothing charged to the contacts
        landed_first = w.members()
        assert len(landed_first) == 20  # two batches of ten fit under 25
        assert [o for _, _, _, o in ended_batches(w)][:2] == ["applied", "applied"]
        emulator.services.behaviour = emulator.services.behaviour.changed({"contact_limit": None})
        landed = await w.sync()
        assert landed.outcome == "success", landed.error
        assert w.members() == emails(rows)
        assert landed.counts()["upserted"] == 80  # the two applied batches are not sent again


class TestAnAccountThatRefusesEachContactPastItsLimitDuringTheSend:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(contact_limit=25, contact_limit_per_contact=True)

    async def test_every_contact_set_aside_is_counted_and_lands_later(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        # The stall's count was the last batch's alone.
        w = sync_world
        rows = people(0, 100)
        w.destination({"vip": w.csv("vip", rows)})

        full = await w.sync()

        assert (full.outcome, full.recheck) == ("permanent", True), full.error
        assert full.rejected == 0
        assert len(w.members()) == 25  # what fitted
        sent = sum(r.contact_count or 0 for r in emulator.requests if r.template == UPSERT)
        assert sent > 30  # set aside in more than one batch
        assert f"SendGrid had no room for {sent - 25} contact(s)" in (full.error or "")
        emulator.services.behaviour = emulator.services.behaviour.changed({"contact_limit": None})
        landed = await w.sync()
        assert landed.outcome == "success", landed.error
        assert w.members() == emails(rows)
        assert landed.counts()["upserted"] == 75


class TestJobsSlowerThanTheSend:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(job_delay=1.0)

    async def test_a_look_that_finds_no_job_ended_narrows_to_one_poll_a_batch(
        self, sync_world: World
    ) -> None:
        """Ten batches sent well within a second, every job pending a second: the looks
        between batches find nothing ended, so each asks about one job (not up to eight),
        and every contact is still acknowledged after the send."""
        w = sync_world
        await sent_in_ten_batches(w)
        asked = [r.template for r in w.emulator.requests]
        last_put = max(i for i, template in enumerate(asked) if template == UPSERT)
        assert 1 <= asked[:last_put].count(JOB) <= 9
