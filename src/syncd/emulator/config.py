"""What an emulator starts with: the seeded account, keys, timing, limits and faults.

Tests build an `EmulatorConfig` in Python; `syncd emulator --seed FILE.yaml` reads the same
model from YAML, so both accept and refuse the same things.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from syncd.emulator import rules
from syncd.emulator.faults import FaultRule
from syncd.emulator.profiles import Behaviour

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class ListSeed(BaseModel):
    """A list to create; without an id it gets a random UUID."""

    model_config = _FROZEN

    name: str = Field(min_length=1, max_length=rules.MAX_LIST_NAME)
    id: str | None = None

    @field_validator("id")
    @classmethod
    def _uuid(cls, list_id: str | None) -> str | None:
        # List ids are 36-character UUIDs in the spec; clients may validate them.
        return str(uuid.UUID(list_id)) if list_id is not None else None


class FieldSeed(BaseModel):
    """A custom field to define; it gets the next id, `e{n}_{T|N|D}`."""

    model_config = _FROZEN

    name: str
    field_type: rules.FieldType


class ContactSeed(BaseModel):
    """A contact present from the start, on these lists."""

    model_config = _FROZEN

    email: str
    list_ids: list[str] = Field(default_factory=list)


class Seed(BaseModel):
    """Account data: the lists, custom fields and contacts the emulator starts with."""

    model_config = _FROZEN

    lists: list[ListSeed] = Field(default_factory=list)
    custom_fields: list[FieldSeed] = Field(default_factory=list)
    contacts: list[ContactSeed] = Field(default_factory=list)


class RateBudget(BaseModel):
    """`limit` requests per `window` seconds, per API key and endpoint, in fixed windows."""

    model_config = _FROZEN

    limit: int = Field(default=rules.DEFAULT_RATE_LIMIT, ge=1)
    window: float = Field(default=rules.DEFAULT_RATE_WINDOW, gt=0)


class EmulatorConfig(Seed, Behaviour):
    """Everything an emulator starts with: the seeded account, the behaviour knobs (see
    `profiles.Behaviour`; `profile` chooses their defaults) and these:

    - `api_keys`: key to scopes. With no keys at all, any non-empty bearer key is accepted
      with every scope, which is handy for local runs.
    - `job_delay` / `export_delay`: loop-time seconds before a job / an export is processed.
    - `rate_limit`, `endpoint_rate_limits`: the default budget and per-template overrides.
    - `wall_clock`: epoch seconds, for timestamps and the rate-limit windows.
    - `record_exchanges`: keep every `/v3/` request and response whole, for contract checks.
    - `random_seed`: makes probabilistic faults repeatable.
    """

    api_keys: dict[str, frozenset[str]] = Field(default_factory=dict)
    job_delay: float = Field(default=0.0, ge=0)
    export_delay: float = Field(default=0.0, ge=0)
    rate_limit: RateBudget = Field(default_factory=RateBudget)
    endpoint_rate_limits: dict[str, RateBudget] = Field(default_factory=dict)
    wall_clock: Callable[[], float] = time.time
    faults: list[FaultRule] = Field(default_factory=list)
    record_exchanges: bool = False
    random_seed: int | None = None

    @field_validator("endpoint_rate_limits")
    @classmethod
    def _known_templates(cls, budgets: dict[str, RateBudget]) -> dict[str, RateBudget]:
        unknown = set(budgets) - set(rules.REQUIRED_SCOPES)
        if unknown:
            raise ValueError(f"unknown endpoint templates: {sorted(unknown)}")
        return budgets

    def budget_for(self, template: str) -> RateBudget:
        return self.endpoint_rate_limits.get(template, self.rate_limit)

    @property
    def behaviour(self) -> Behaviour:
        """The knobs alone, as the emulator starts (the admin API may change them later)."""
        return Behaviour.model_validate(Behaviour.knobs(self))
