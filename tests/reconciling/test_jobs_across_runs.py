"""Jobs that outlive their run, or that SendGrid loses or never finishes: sent again only
after a grace, finished by the next run, and what that run reports (strict emulator, real
HTTP)."""

from __future__ import annotations

import asyncio
import math

import pytest

from syncd.emulator import Emulator, EmulatorConfig
from tests.fixtures_emulator import strict_emulator_config
from tests.reconciling.job_faults import (
    JOB,
    UPSERT,
    outlived_by_its_job,
    refuse_in_the_next_job,
    rejected,
)
from tests.reconciling.world import World, emails, people


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


class TestAnEarlierRunsJobFinishedByTheNext:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(
            job_delay=1.0, contact_limit=4, contact_limit_per_contact=True
        )

    async def test_its_refusals_are_reported_though_the_account_full_stalls_the_run(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        # Settled while the next run finished the earlier run's work, the job's refusals
        # were charged, then the stall ended that run before it reported them.
        w = sync_world
        w.destination({"vip": w.csv("vip", people(0, 8))})
        victims = ["person.1@example.com", "person.6@example.com"]
        refuse_in_the_next_job(emulator, victims)
        await outlived_by_its_job(w, job_delay=1.0)

        finished = await w.sync()

        assert (finished.outcome, finished.recheck) == ("permanent", True), finished.error
        assert "SendGrid had no room for 2 contact(s)" in (finished.error or "")
        assert set(rejected(finished)) == set(victims)  # charged: told, once each
        assert len(finished.rejections) == 2


class TestAContactChargedTwiceInOneRun:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(job_delay=1.0)

    async def test_it_is_told_once_with_the_refusal_that_stands(
        self, sync_world: World, emulator: Emulator
    ) -> None:
        # Charged when the earlier run's job was settled, sent again and refused again in
        # the same run: two lines, and `rejected` counted it twice.
        w = sync_world
        w.destination({"vip": w.csv("vip", people(0, 5))})
        victim = "person.2@example.com"
        refuse_in_the_next_job(emulator, [victim], "first")
        await outlived_by_its_job(w, job_delay=1.0)
        refuse_in_the_next_job(emulator, [victim], "second")

        report = await w.sync()

        assert report.outcome == "success", report.error
        assert rejected(report) == {victim: "second"}
        assert len(report.rejections) == report.rejected == 1
