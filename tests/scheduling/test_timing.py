from __future__ import annotations

import random
from datetime import UTC, datetime

from syncd.destinations import Schedule
from syncd.scheduling.timing import backoff, next_run, period

RNG = random.Random(1)


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_an_interval_counts_from_the_start_of_the_previous_run() -> None:
    hourly = Schedule.model_validate({"interval": "1h"})
    assert next_run(hourly, last_start=None, now=100.0, rng=RNG) == 100.0
    assert next_run(hourly, last_start=100.0, now=400.0, rng=RNG) == 3700.0
    assert next_run(hourly, last_start=100.0, now=9000.0, rng=RNG) == 9000.0


def test_cron_fires_on_its_expression_in_its_time_zone() -> None:
    six_hourly = Schedule.model_validate({"cron": "0 */6 * * *"})
    now = epoch("2026-11-29T07:30:00")
    assert next_run(six_hourly, last_start=None, now=now, rng=RNG) == epoch("2026-11-29T12:00:00")
    paris_nine = Schedule.model_validate({"cron": "0 9 * * *", "timezone": "Europe/Paris"})
    assert next_run(paris_nine, last_start=None, now=now, rng=RNG) == epoch("2026-11-29T08:00:00")


def test_jitter_delays_by_at_most_its_amount() -> None:
    jittery = Schedule.model_validate({"interval": "10m", "jitter": "30s"})
    delays = [next_run(jittery, last_start=0.0, now=0.0, rng=RNG) - 600 for _ in range(200)]
    assert min(delays) >= 0
    assert max(delays) <= 30
    assert max(delays) - min(delays) > 10


def test_the_period_of_a_schedule() -> None:
    assert period(Schedule.model_validate({"interval": "90s"}), now=0) == 90
    assert period(Schedule.model_validate({"cron": "*/15 * * * *"}), now=0) == 900


def test_backoff_grows_is_capped_and_honours_the_servers_reset() -> None:
    first = [backoff(1, retry_after=None, cap=600, rng=RNG) for _ in range(50)]
    fifth = [backoff(5, retry_after=None, cap=600, rng=RNG) for _ in range(50)]
    huge = [backoff(40, retry_after=None, cap=600, rng=RNG) for _ in range(50)]
    assert max(first) <= 5 < min(fifth) * 2
    assert max(huge) <= 600
    assert backoff(1, retry_after=120, cap=600, rng=RNG) == 120


def test_the_period_of_a_weekday_cron_is_its_weekend_gap() -> None:
    weekdays = Schedule.model_validate({"cron": "0 9 * * 1-5"})
    assert period(weekdays, now=epoch("2026-11-25T10:00:00")) == 3 * 86400


def test_croniters_shorthands_stay_accepted() -> None:
    # Five fields only, but the @-names croniter took before that rule stay valid.
    daily = Schedule.model_validate({"cron": "@daily"})
    assert next_run(daily, last_start=None, now=epoch("2026-11-29T07:30:00"), rng=RNG) == epoch(
        "2026-11-30T00:00:00"
    )
