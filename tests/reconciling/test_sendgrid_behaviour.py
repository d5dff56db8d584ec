"""SendGrid's slower, stricter answers: a lagging search, the contact limit, missing scopes.

Against the strict emulator over real HTTP; the search lag on fake loop time.
"""

from __future__ import annotations

import asyncio
import math
import sys
from dataclasses import replace

import pytest
from structlog.testing import capture_logs

from syncd.emulator import ALL_SCOPES, Emulator, EmulatorConfig, FaultRule
from syncd.emulator.hand_edits import HAND_EDITS, apply_hand_edits
from syncd.ledger import RETRY_BUDGET
from syncd.reconciling import RunReport
from syncd.sendgrid import Job, SendGridClient
from tests.fixtures_emulator import TEST_API_KEY, strict_emulator_config
from tests.reconciling.world import World, emails, people

UPSERT = "PUT /v3/marketing/contacts"
SEARCH = "POST /v3/marketing/contacts/search/emails"
JOB = "GET /v3/marketing/contacts/imports/{id}"


def refuse_in_the_next_job(emulator: Emulator, victims: list[str]) -> None:
    """The next upsert job rejects these contacts (once), applying the rest."""
    emulator.faults.add(
        FaultRule(kind="job_errored", template=UPSERT, emails=victims, reason="bad", times=1)
    )


def rejected(report: RunReport) -> dict[str, str]:
    """Email → why, of the contacts a run reports as rejected."""
    return {r.email: r.reason for r in report.rejections}


class TestASearchThirtySecondsBehind:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(search_lag=30.0)

    @pytest.mark.looptime(idle_step=0.01)
    async def test_a_removal_waits_for_search_and_is_carried_out_by_a_later_run(
        self, sync_world: World
    ) -> None:
        w = sync_world
        rows = people(0, 10)
        w.destination({"vip": w.csv("vip", rows)})
        assert (await w.sync()).outcome == "success"
        w.csv("vip", rows[:8])  # two leave before search shows them at all

        early = await w.sync()

        assert early.outcome == "success"
        assert early.applied.pending_removals == 2
        assert early.requeue_after is not None
        assert w.members() == emails(rows)  # not forgotten, not removed yet
        shown = await status(w)
        assert "2 waiting on SendGrid's search" in shown
        await asyncio.sleep(31)
        sent = await w.sync()  # found now: removed, then waits for search to confirm
        assert w.members() == emails(rows[:8])
        assert sent.applied.pending_removals == 2
        await asyncio.sleep(31)
        confirmed = await w.sync()
        assert (confirmed.applied.pending_removals, confirmed.applied.removed) == (0, 2)
        assert confirmed.counts()["gone"] == 2


async def status(w: World) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncd",
        "status",
        "members",
        "--state",
        w.settings.state,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


class TestTheAccountsContactLimit:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(contact_limit=5)

    async def test_a_full_account_stalls_with_sendgrids_message_then_lands_every_contact(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        w = sync_world
        rows = people(0, 10)
        w.destination({"vip": w.csv("vip", rows)})

        full = await w.sync()

        assert (full.outcome, full.recheck) == ("permanent", True)
        assert "you have hit your contact limit" in (full.error or "")
        assert full.rejected == 0  # nothing charged to the contacts
        assert w.members() == set()
        emulator.services.behaviour = emulator.services.behaviour.changed({"contact_limit": None})
        landed = await w.sync()
        assert landed.outcome == "success"
        assert w.members() == emails(rows)


class TestAKeyWithoutTheDeleteScope:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        scopes = frozenset(ALL_SCOPES - {"marketing_campaigns.delete"})
        return strict_emulator_config(api_keys={TEST_API_KEY: scopes})

    async def test_a_run_fails_before_any_write_naming_the_missing_scope(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        w = sync_world
        w.destination({"vip": w.csv("vip", people(0, 10))})

        refused = await w.sync()

        assert refused.outcome == "permanent"
        assert "marketing_campaigns.delete" in (refused.error or "")
        assert "onLeave" in (refused.error or "")
        assert emulator.write_requests() == []

    async def test_a_destination_that_keeps_leavers_needs_no_delete_scope(
        self, sync_world: World
    ) -> None:
        w = sync_world
        w.destination({"vip": w.csv("vip", people(0, 10))}, onLeave="keep")
        assert (await w.sync()).outcome == "success"


class TestAnErrorsFileThatDoesNotAddUp:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(bad_values="in_job", errors_file_omits=1)

    async def test_contacts_the_file_does_not_account_for_are_looked_up_not_trusted(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        w = sync_world
        rows = people(0, 10)
        w.destination({"vip": w.csv("vip", rows)})
        victims = ["person.3@example.com", "person.7@example.com"]
        emulator.faults.add(
            FaultRule(kind="job_errored", template=UPSERT, emails=victims, reason="nope", times=1)
        )

        report = await w.sync()

        # The file names one of the two: the other is found off the list by search, and
        # reported rather than acknowledged; the eight others are acknowledged as applied.
        assert report.outcome == "success"
        assert report.applied.upserted == 8
        reasons = rejected(report)
        assert set(reasons) == set(victims)
        assert any("errors file named 1" in reason for reason in reasons.values())
        searched = [r for r in emulator.requests if r.template == SEARCH]
        assert searched  # the unaccounted contacts were checked


class TestAnUpsertJobSendGridDoesNotKnow:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(job_delay=0.3)

    async def test_its_batch_goes_again_only_after_the_grace_period(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        w = sync_world
        w.settings = w.settings.model_copy(update={"unknown_job_grace": 1.0})
        rows = people(0, 10)
        w.destination({"vip": w.csv("vip", rows)})

        async def lose_the_first_job() -> None:
            while not emulator.jobs:
                await asyncio.sleep(0.01)
            emulator.jobs.clear()  # SendGrid answers 404 for it from now on

        loser = asyncio.create_task(lose_the_first_job())
        report = await w.sync()
        await loser

        assert report.outcome == "success"
        assert w.members() == emails(rows)
        puts = [r for r in emulator.requests if r.template == UPSERT]
        assert len(puts) == 2  # sent again once, after SendGrid did not know it for 1 s
        unknown = [r for r in emulator.requests if r.template == JOB and r.status == 404]
        assert unknown
        assert puts[1].loop_time - unknown[0].loop_time >= 0.9


class TestAJobSendGridNeverFinishes:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(job_delay=0.3)

    @pytest.mark.looptime(idle_step=0.01)
    async def test_is_taken_for_lost_after_a_day_pending_and_its_batch_sent_again(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        w = sync_world
        w.follow_the_loop()
        w.settings = w.settings.model_copy(
            update={"stuck_job_after": 120.0, "job_timeout": 1000.0, "job_poll_max_interval": 5.0}
        )
        rows = people(0, 10)
        w.destination({"vip": w.csv("vip", rows)})

        async def never_finish_the_first_job() -> None:
            while not emulator.jobs:
                await asyncio.sleep(0.001)
            next(iter(emulator.jobs.values())).due_at = math.inf  # `pending` for ever

        holder = asyncio.create_task(never_finish_the_first_job())
        report = await w.sync()
        await holder

        assert report.outcome == "success", report.error
        assert w.members() == emails(rows)
        puts = [r for r in emulator.requests if r.template == UPSERT]
        assert len(puts) == 2  # sent again once, after 120 s of `pending`, not before
        assert 120 <= puts[1].loop_time - puts[0].loop_time < 130
        first = next(iter(emulator.jobs.values()))
        assert first.status == "pending"


class TestAContactAnotherIntegrationGaveAnIdentifier:
    async def test_is_reported_once_out_of_retries_and_holds_nobody_up(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        w = sync_world
        rows = people(0, 10)
        w.destination({"vip": w.csv("vip", rows)})
        assert (await w.sync()).applied.upserted == 10
        # A shared account: another integration keys this contact by an external id too.
        apply_hand_edits(
            emulator.state,
            HAND_EDITS.validate_python(
                [
                    {
                        "op": "set_fields",
                        "emails": ["person.4@example.com"],
                        "fields": {"external_id": "crm-4"},
                    }
                ]
            ),
            "strict",
        )
        for row in rows:
            row["FirstName"] = "Renamed"
        w.csv("vip", rows)

        reports = [await w.sync() for _ in range(RETRY_BUDGET + 1)]

        # "All of its existing identifiers must be present": syncd cannot know the other
        # integration's id, so that contact is refused in every job; the nine others are
        # updated at once, it spends its retries, is reported with SendGrid's reason, and
        # is not sent again unchanged.
        assert reports[0].applied.upserted == 9
        for report in reports:  # each run says why that contact is not as the segment says
            assert [r.email for r in report.rejections] == ["person.4@example.com"]
            assert "all of its existing identifiers must be present" in report.rejections[0].reason
        assert reports[-1].applied.upserted == 0
        assert reports[-1].outcome == "success"
        puts = [r for r in emulator.requests if r.template == UPSERT]
        assert len(puts) == 1 + RETRY_BUDGET  # the first sync, then one a retry


class TestALegacyAccount:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(legacy_account=True)

    async def test_a_403_despite_the_scopes_says_the_account_may_be_legacy(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        w = sync_world
        w.destination({"vip": w.csv("vip", people(0, 3))})
        report = await w.sync()
        assert report.outcome == "permanent"
        assert "legacy Marketing Campaigns" in (report.error or "")
        assert emulator.write_requests() == []


class TestAnErrorsFileSyncdCannotRead:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        # The file's address column under a name syncd does not know: it names nobody.
        return strict_emulator_config(errors_file_email_header="Recipient")

    async def test_a_job_that_refused_every_contact_is_looked_up_not_taken_for_a_stall(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        w = sync_world
        rows = people(0, 4)
        w.destination({"vip": w.csv("vip", rows)})
        victims = [row["EmailAddress"].lower() for row in rows]
        refuse_in_the_next_job(emulator, victims)

        report = await w.sync()

        # Every contact refused: SendGrid ends the job `failed`, with a file of four rows.
        # Not the account failing as a whole (that has no file): each contact is looked up,
        # found missing, and charged a retry, and the destination goes on.
        assert report.outcome == "success", report.error
        assert report.applied.upserted == 0
        reasons = rejected(report)
        assert set(reasons) == set(victims)
        assert all("errors file named 0" in reason for reason in reasons.values())
        assert w.members() == set()
        assert (await w.sync()).applied.upserted == 4  # the fault was once: sent again


class TestAnErrorsFileWhoseLinkHasExpired:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(errors_file_expired=True)

    @pytest.mark.looptime(idle_step=0.01)
    async def test_is_waited_for_a_while_then_the_job_is_read_by_search(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        w = sync_world
        w.follow_the_loop()
        w.settings = w.settings.model_copy(update={"unknown_job_grace": 600.0})
        rows = people(0, 10)
        w.destination({"vip": w.csv("vip", rows)})
        victims = ["person.1@example.com", "person.8@example.com"]
        refuse_in_the_next_job(emulator, victims)

        early = await w.sync()

        # The file's link answers 403 at once: perhaps a passing refusal, so the job stays
        # open and nothing is charged to anybody yet.
        assert early.outcome == "temporary"
        assert "answered 403 for a job's errors file" in (early.error or "")
        assert early.rejections == []
        await asyncio.sleep(600)

        report = await w.sync()

        # Still 403 ten minutes on: the job is not left open for a file that will not come
        # back. Its contacts are looked up: eight applied, the two refused charged a retry
        # with a reason that says why syncd could not know more, and sent again in the same
        # run (the fault was once).
        assert report.outcome == "success", report.error
        assert report.applied.upserted == 10
        reasons = rejected(report)
        assert set(reasons) == set(victims)
        assert all("errors file was no longer there" in r for r in reasons.values())
        assert w.members() == emails(rows)
        assert (await w.sync()).applied.upserted == 0

    @pytest.mark.looptime(idle_step=0.01)
    async def test_a_failed_job_is_read_by_search_too_not_taken_for_a_stall(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        w = sync_world
        w.follow_the_loop()
        w.settings = w.settings.model_copy(update={"unknown_job_grace": 60.0})
        rows = people(0, 3)
        w.destination({"vip": w.csv("vip", rows)})
        victims = [row["EmailAddress"].lower() for row in rows]
        refuse_in_the_next_job(emulator, victims)

        assert (await w.sync()).outcome == "temporary"
        await asyncio.sleep(60)
        report = await w.sync()

        assert report.outcome == "success", report.error
        assert report.applied.stalled is None
        assert {r.email for r in report.rejections} == set(victims)
        assert report.applied.upserted == 3  # looked up, charged, sent again: applied
        assert w.members() == emails(rows)


class TestAJobThatErroredWithoutCounts:
    async def test_nobody_is_acknowledged_on_trust(
        self, sync_world: World, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        w = sync_world
        rows = people(0, 10)
        w.destination({"vip": w.csv("vip", rows)})
        victims = ["person.2@example.com", "person.6@example.com"]
        refuse_in_the_next_job(emulator, victims)
        polled = SendGridClient.job

        async def without_counts(client: SendGridClient, job_id: str) -> Job | None:
            job = await polled(client, job_id)  # `errored`, as SendGrid says, but no counts
            return replace(job, errored_count=0, errors_url=None) if job else job

        monkeypatch.setattr(SendGridClient, "job", without_counts)

        report = await w.sync()

        assert report.outcome == "success", report.error
        assert report.applied.upserted == 8
        reasons = rejected(report)
        assert set(reasons) == set(victims)
        assert all("without saying which contacts failed" in r for r in reasons.values())
        assert w.members() == emails(rows) - set(victims)


class TestALeaverWhoComesBackBeforeSearchConfirmsTheRemoval:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(search_lag=30.0)

    @pytest.mark.looptime(idle_step=0.01)
    async def test_is_sent_again_not_taken_for_still_on_the_list(self, sync_world: World) -> None:
        w = sync_world
        rows = people(0, 10)
        w.destination({"vip": w.csv("vip", rows)})
        assert (await w.sync()).outcome == "success"
        await asyncio.sleep(31)  # search shows all ten
        w.csv("vip", rows[:8])
        left = await w.sync()  # two leave: their removal is sent, not confirmed yet
        assert (left.applied.pending_removals, left.applied.removed) == (2, 0)
        assert w.members() == emails(rows[:8])  # SendGrid applied the removal job
        w.csv("vip", rows)  # back before search showed them gone (a churning segment)

        back = await w.sync()

        assert back.outcome == "success"
        assert back.applied.upserted == 2  # sent again: the removal may have been applied
        assert w.members() == emails(rows)
        assert back.applied.pending_removals == 0
        assert (await w.sync()).applied.upserted == 0  # acknowledged again: nothing more

    @pytest.mark.looptime(idle_step=0.01)
    async def test_removals_in_doubt_do_not_make_the_next_runs_read_every_row(
        self, sync_world: World
    ) -> None:
        w = sync_world
        rows = people(0, 60)
        w.destination({"vip": w.csv("vip", rows)})
        assert (await w.sync()).outcome == "success"
        await asyncio.sleep(31)
        w.csv("vip", rows[:57])
        left = await w.sync()  # three leave: removals sent, search not showing it yet
        assert (left.applied.pending_removals, left.applied.removed) == (3, 0)
        changed = [dict(row) for row in rows[:57]]
        changed[10]["FirstName"] = "Changed"
        w.csv("vip", changed)

        with capture_logs() as logs:
            one = await w.sync()

        # Only the buckets that differ are staged (the changed row's, and the three in
        # doubt's), not the 57 rows; the change goes out, the removals stay pending.
        assert [e["event"] for e in logs if e["event"] == "reading.differing"] == [
            "reading.differing"
        ]
        assert 1 <= one.staged.restaged < 10
        assert (one.applied.upserted, one.applied.pending_removals) == (1, 3)

        w.csv("vip", [*changed, *rows[57:]])  # the three come back, still in doubt
        with capture_logs() as logs:
            back = await w.sync()
        assert [e["event"] for e in logs if e["event"] == "reading.differing"] == [
            "reading.differing"
        ]
        assert back.applied.upserted == 3  # sent again: their removal may have been applied
        assert back.applied.pending_removals == 0
