"""When a destination runs: its refresh schedule, and when and how its list is audited.

A schedule is an interval or a cron expression read in an IANA time zone, both
checked as the file is read; the audit has a schedule of its own and says what it may
do about the drift it finds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter
from pydantic import AfterValidator, ConfigDict, Field, model_validator

from syncd.destinations.base import StrictModel
from syncd.durations import Duration

CRON_FIELDS = 5
CRON_SHORTHANDS = frozenset(
    ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
)
NEVER_BEFORE = datetime(2000, 1, 1, tzinfo=UTC)


def _valid_cron(expression: str) -> str:
    # croniter also takes seconds and years (six or seven fields: "* * * * * *" would run
    # every second), and an expression for a day that never comes ("0 0 30 2 *") is valid
    # to it until asked for a next run, which raises: in the daemon, for every destination.
    fields = len(expression.split())
    shorthand = expression.strip() in CRON_SHORTHANDS
    if (fields != CRON_FIELDS and not shorthand) or not croniter.is_valid(expression):
        raise ValueError(
            "not a valid cron expression (five fields: minute hour day month weekday, or "
            "@hourly, @daily, @weekly, @monthly, @yearly)"
        )
    try:
        croniter(expression, NEVER_BEFORE).get_next(datetime)
    except CroniterBadDateError:
        raise ValueError(
            "this cron expression never fires (a day that no month has, such as 30 2): "
            "name a day that comes"
        ) from None
    return expression


def _valid_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            "unknown time zone; use an IANA name such as UTC or Europe/Paris"
        ) from None
    return name


def _at_least_a_second(value: timedelta) -> timedelta:
    if value < timedelta(seconds=1):
        raise ValueError("must be at least 1s")
    return value


class Schedule(StrictModel):
    """When the destination refreshes: every `interval`, or on a `cron` expression."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["interval"]}, {"required": ["cron"]}]}
    )

    interval: Annotated[Duration, AfterValidator(_at_least_a_second)] | None = Field(
        default=None, description="Time between two runs, e.g. 1h."
    )
    cron: Annotated[str, AfterValidator(_valid_cron)] | None = Field(
        default=None, description='Five-field cron expression, e.g. "0 */6 * * *".'
    )
    timezone: Annotated[str, AfterValidator(_valid_timezone)] = Field(
        default="UTC", description="IANA time zone the cron expression is read in."
    )
    jitter: Duration = Field(
        default="0s",  # parsed: validate_default
        validate_default=True,
        description="Up to this much random delay added to each run.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Schedule:
        if (self.interval is None) == (self.cron is None):
            raise ValueError("give exactly one of interval or cron")
        return self


class Audit(StrictModel):
    """How often syncd reads the real list back and compares it with the segment, and what
    it does about what differs. Omitted: an audit every 24 h that only reports."""

    schedule: Schedule = Field(
        default_factory=lambda: Schedule.model_validate({"interval": "24h"}),
        description="When to audit: every `interval`, or on a `cron` expression.",
    )
    heal: bool = Field(
        strict=True,
        default=False,
        description="true sends missing and stale contacts again, through the normal outbox.",
    )
    prune: bool = Field(
        strict=True,
        default=False,
        description="true takes contacts that are on the list but in no segment off the list "
        "(never out of the account, whatever onLeave says), under maxRemovalFraction of the "
        "list's size.",
    )
    on_count_mismatch: bool = Field(
        strict=True,
        default=True,
        description="true starts an audit early when the list's contact count strays from "
        "what the ledger expects beyond SYNCD_AUDIT_COUNT_TOLERANCE past the settle window.",
    )
