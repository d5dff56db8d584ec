"""What syncd records after a SendGrid job that did not simply complete: an errors file
that does not add up, cannot be read or has expired, a job without counts, a contact
SendGrid refuses for its identifiers (strict emulator, real HTTP). Jobs that outlive
their run or that SendGrid loses: `test_jobs_across_runs.py`."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from structlog.testing import capture_logs

from syncd.cli.reports import run_text
from syncd.emulator import Emulator, EmulatorConfig, FaultRule
from syncd.emulator.hand_edits import HAND_EDITS, apply_hand_edits
from syncd.emulator.handlers import jobs as emulator_jobs
from syncd.emulator.jobs import Job as EmulatorJob
from syncd.emulator.views import job_view
from syncd.ledger import RETRY_BUDGET
from syncd.sendgrid import Job, SendGridClient
from tests.fixtures_emulator import strict_emulator_config
from tests.reconciling.job_faults import SEARCH, UPSERT, refuse_in_the_next_job, rejected
from tests.reconciling.world import World, emails, people


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

        early = await w.sync()

        # The file names one of the two: the others are to be looked up, once search (which
        # lags behind jobs) has had its time: the batch stays open, nobody charged.
        assert early.outcome == "success"
        assert (early.applied.awaiting_search, early.applied.upserted) == (10, 0)
        assert rejected(early) == {}
        assert early.requeue_after is not None
        assert "10 sent in jobs that ended with errors SendGrid did not name" in run_text(early)
        assert not [r for r in emulator.requests if r.template == SEARCH]
        w.settings = w.settings.model_copy(update={"search_lag_grace": 0.0})

        with capture_logs() as logs:  # search has had its time: what it shows is the truth
            report = await w.sync()

        # The other is found off the list, charged a retry rather than acknowledged, and
        # sent again in the same run, with the one the file named; the eight others are
        # acknowledged as applied. Both landed: the run reports nobody rejected.
        assert report.outcome == "success"
        assert report.applied.upserted == 10  # the eight, and the two sent again (once)
        assert rejected(report) == {}
        (short,) = [e for e in logs if e["event"] == "reconcile.errors_file_short"]
        assert "errors file named 1" in short["why"]
        puts = [r for r in emulator.requests if r.template == UPSERT]
        assert [p.contact_count for p in puts] == [10, 2]  # this run sent the two again
        assert [r for r in emulator.requests if r.template == SEARCH]  # looked up, then
        assert w.members() == emails(rows)


class TestAnErrorsFileThatDoesNotAddUpWhileSearchLags:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(bad_values="in_job", errors_file_omits=1, search_lag=30.0)

    @pytest.mark.looptime(idle_step=0.01)
    async def test_contacts_a_lagging_search_does_not_show_yet_are_never_charged(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        # Search 30 s behind the job, runs a minute apart: contacts SendGrid applied were
        # charged a retry at each run, and reported rejected for good after three.
        w = sync_world
        w.follow_the_loop()
        rows = people(0, 10)
        w.destination({"vip": w.csv("vip", rows)})
        victims = ["person.3@example.com", "person.7@example.com"]
        emulator.faults.add(
            FaultRule(kind="job_errored", template=UPSERT, emails=victims, reason="nope", times=1)
        )

        for _ in range(4):
            early = await w.sync()
            assert early.outcome == "success", early.error
            assert rejected(early) == {}
            assert early.applied.awaiting_search == 10
            await asyncio.sleep(60)
        await asyncio.sleep(600)
        settled = await w.sync()

        # Only the two SendGrid refused were charged and sent again (the fault was once):
        # applied in that run, which reports nobody rejected.
        assert rejected(settled) == {}
        assert [p.contact_count for p in emulator.requests if p.template == UPSERT] == [10, 2]
        assert w.members() == emails(rows)
        assert (await w.sync()).rejections == []


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
        w.settings = w.settings.model_copy(update={"search_lag_grace": 0.0})

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

        with capture_logs() as logs:
            report = await w.sync()

        # Still 403 ten minutes on: the job is not left open for a file that will not come
        # back. Its contacts are looked up: eight applied, the two refused charged a retry
        # with a reason that says why syncd could not know more, and sent again in the same
        # run (the fault was once), where they landed: nobody is reported rejected.
        assert report.outcome == "success", report.error
        assert report.applied.upserted == 10
        assert rejected(report) == {}
        (short,) = [e for e in logs if e["event"] == "reconcile.errors_file_short"]
        assert "errors file was no longer there" in short["why"]
        assert [p.contact_count for p in emulator.requests if p.template == UPSERT][-1] == 2
        assert w.members() == emails(rows)
        assert (await w.sync()).applied.upserted == 0

    @pytest.mark.looptime(idle_step=0.01)
    async def test_a_failed_job_is_read_by_search_too_not_taken_for_a_stall(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        w = sync_world
        w.follow_the_loop()
        w.settings = w.settings.model_copy(
            update={"unknown_job_grace": 60.0, "search_lag_grace": 60.0}
        )
        rows = people(0, 3)
        w.destination({"vip": w.csv("vip", rows)})
        victims = [row["EmailAddress"].lower() for row in rows]
        refuse_in_the_next_job(emulator, victims)

        assert (await w.sync()).outcome == "temporary"
        await asyncio.sleep(60)
        report = await w.sync()

        assert report.outcome == "success", report.error
        assert report.applied.stalled is None
        assert report.rejections == []  # looked up, charged, sent again: applied
        assert report.applied.upserted == 3
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
        w.settings = w.settings.model_copy(update={"search_lag_grace": 0.0})

        report = await w.sync()

        assert report.outcome == "success", report.error
        assert report.applied.upserted == 8
        reasons = rejected(report)
        assert set(reasons) == set(victims)
        assert all("without saying which contacts failed" in r for r in reasons.values())
        assert w.members() == emails(rows) - set(victims)


AS_COUNTED = object()
"""The job's own `errored_count`, left as the emulator counted it."""


@pytest.mark.parametrize("count", [AS_COUNTED, "2", -1, "many"], ids=["counted", "2", "-1", "many"])
async def test_a_job_completed_while_counting_errors_is_read_as_errored(
    sync_world: World, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, count: object
) -> None:
    """Taken at its word, `completed` would acknowledge the contacts its own count and
    errors file say it refused: they would never be sent again. So would a count that is
    no count (`"2"`, `-1`), read as 0."""
    w = sync_world
    w.destination({"vip": w.csv("vip", people(0, 10))})
    victims = ["person.2@example.com", "person.5@example.com"]
    refuse_in_the_next_job(emulator, victims)
    view = job_view

    def completed_anyway(job: EmulatorJob, base_url: str) -> dict[str, object]:
        shown = view(job, base_url)
        if shown["status"] == "errored":
            shown["status"] = "completed"
            results = shown["results"]
            assert isinstance(results, dict)
            if count is not AS_COUNTED:
                results["errored_count"] = count
        return shown

    monkeypatch.setattr(emulator_jobs, "job_view", completed_anyway)
    report = await w.sync()

    assert report.outcome == "success", report.error
    assert report.applied.upserted == 8
    assert set(rejected(report)) == set(victims)
    again = await w.sync()  # not acknowledged: each has a retry left, and is sent again
    assert again.applied.upserted == 2
