"""Fault injection: rules that make the emulator misbehave the ways SendGrid can.

A rule matches requests (or the jobs they create) by endpoint template, fires
with a probability, and lasts `times` matches and/or `duration` seconds of loop time counted
from its first match; with neither it lasts until cleared.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from syncd.emulator import rules

FaultKind = Literal[
    "status",
    "rate_limit_storm",
    "delay",
    "reset_after_apply",
    "job_errored",
    "job_failed",
    "out_of_order",
    "refuse_contacts",
    "export_stuck",
    "export_cut_short",
]

# What `seconds` means when it is not given: the delay before answering, how far ahead
# `X-RateLimit-Reset` points during a storm, how long due jobs are held to be reordered.
_DEFAULT_SECONDS: dict[str, float] = {"delay": 1.0, "rate_limit_storm": 60.0, "out_of_order": 1.0}


class FaultRule(BaseModel):
    """One way to misbehave. Fields that do not concern a kind are ignored for it.

    - `status`: answer `status` (default 500) with a SendGrid error body, or with `page`
      an HTML page (what a proxy or load balancer in front of it answers); nothing applied.
    - `rate_limit_storm`: answer 429 with `X-RateLimit-Remaining: 0`, the reset `seconds`
      ahead (or at the end of `duration`), shifted by `reset_offset` seconds (negative: a
      reset in the past, as a skewed clock gives); nothing applied.
    - `delay`: sleep `seconds` before handling the request normally.
    - `reset_after_apply`: handle the request fully, then drop the connection unanswered.
    - `job_errored`: the jobs created by matching requests reject the contacts in `emails`
      and/or the first `count` contacts with `reason`; the rest are applied.
    - `job_failed`: the jobs created by matching requests fail and apply nothing.
    - `out_of_order`: due jobs are held for `seconds`, then applied newest first.
    - `refuse_contacts`: a matching upsert carrying any of `emails` is refused whole with a
      400, naming each such contact (`contacts[i].email`, `reason`) or, with `unnamed`, with
      one error of `field: null` (as SendGrid's "invalid custom field ids" names nobody): the
      values SendGrid refuses that a client cannot know in advance.
    - `export_stuck`: the exports created by matching requests stay `pending` for good.
    - `export_cut_short`: the exports created by matching requests turn ready with every
      file's stored (gzip'd) bytes cut off halfway: gzip'd, a file ends before its
      end-of-stream marker; plain, it ends mid-file. `contact_count` still counts them whole.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: FaultKind
    template: str | None = None
    times: int | None = Field(default=None, ge=1)
    duration: float | None = Field(default=None, gt=0)
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    status: int = Field(default=500, ge=400, le=599)
    seconds: float | None = Field(default=None, ge=0.0)
    emails: list[str] = Field(default_factory=list)
    count: int | None = Field(default=None, ge=1)
    reason: str = rules.MSG_INJECTED
    reset_offset: float = 0.0
    unnamed: bool = False
    page: bool = False

    @field_validator("template")
    @classmethod
    def _known_template(cls, template: str | None) -> str | None:
        if template is not None and template not in rules.REQUIRED_SCOPES:
            known = ", ".join(sorted(rules.REQUIRED_SCOPES))
            raise ValueError(f"unknown endpoint template {template!r}; known: {known}")
        return template

    @model_validator(mode="after")
    def _job_errored_needs_victims(self) -> FaultRule:
        if self.kind == "job_errored" and not self.emails and self.count is None:
            raise ValueError("a job_errored fault needs `emails` or `count`")
        if self.kind == "refuse_contacts" and not self.emails:
            raise ValueError("a refuse_contacts fault needs `emails`")
        return self

    @property
    def effective_seconds(self) -> float:
        if self.seconds is not None:
            return self.seconds
        return _DEFAULT_SECONDS.get(self.kind, 0.0)

    def matches(self, template: str) -> bool:
        return self.template is None or self.template == template


@dataclass
class ActiveFault:
    id: str
    rule: FaultRule
    remaining: int | None
    started_at: float | None = None
    hits: int = 0

    def ends_at(self) -> float | None:
        if self.rule.duration is None or self.started_at is None:
            return None
        return self.started_at + self.rule.duration

    def describe(self) -> dict[str, object]:
        return {
            "id": self.id,
            **self.rule.model_dump(exclude_defaults=True),
            "kind": self.rule.kind,
            "remaining": self.remaining,
            "hits": self.hits,
        }


class FaultBook:
    """The active rules; the request pipeline and the job runner consult it."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()
        self._faults: dict[str, ActiveFault] = {}
        self._listeners: list[Callable[[], None]] = []

    def add(self, rule: FaultRule) -> str:
        """Activates a rule; returns its id for `remove`."""
        fault_id = uuid.uuid4().hex[:12]
        self._faults[fault_id] = ActiveFault(id=fault_id, rule=rule, remaining=rule.times)
        self._changed()
        return fault_id

    def remove(self, fault_id: str) -> bool:
        removed = self._faults.pop(fault_id, None) is not None
        self._changed()
        return removed

    def clear(self) -> None:
        self._faults.clear()
        self._changed()

    def describe(self) -> list[dict[str, object]]:
        return [fault.describe() for fault in self._faults.values()]

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def take(self, kind: FaultKind, template: str, now: float) -> ActiveFault | None:
        """The first live rule of this kind matching the request, counting it as used."""
        for fault in self.live(kind, template, now):
            if fault.rule.probability < 1.0 and self._rng.random() >= fault.rule.probability:
                continue
            self.use(fault, now)
            return fault
        return None

    def peek(self, kind: FaultKind, template: str, now: float) -> ActiveFault | None:
        """The first live matching rule, without counting a use."""
        return next(iter(self.live(kind, template, now)), None)

    def use(self, fault: ActiveFault, now: float) -> None:
        if fault.started_at is None:
            fault.started_at = now
        fault.hits += 1
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.pop(fault.id, None)
                self._changed()

    def live(self, kind: FaultKind, template: str, now: float) -> list[ActiveFault]:
        """The live rules of this kind matching the request, none counted as used."""
        live = []
        for fault in list(self._faults.values()):
            ends_at = fault.ends_at()
            if ends_at is not None and now >= ends_at:
                self._faults.pop(fault.id, None)
                continue
            if fault.rule.kind == kind and fault.rule.matches(template):
                live.append(fault)
        return live

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()
