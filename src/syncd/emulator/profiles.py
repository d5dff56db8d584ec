"""How closely the emulator imitates SendGrid where SendGrid is strict, silent or surprising.

Each knob is one behaviour. A profile only chooses the knobs' defaults: `kind` is the
emulator's original, forgiving behaviour; `strict` is SendGrid as documented and, where
SendGrid is silent, the choice that is harder on a client. Any knob can still be set on its
own (seed file, `EmulatorConfig`, `PATCH /_emulator/behaviour`). docs/emulator.md describes each.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from syncd.emulator import rules

Profile = Literal["kind", "strict"]
BadValues = Literal["upfront", "in_job"]
ValueRules = Literal["lenient", "strict"]
ErrorsFileFormat = Literal["csv", "json"]
HeaderCase = Literal["canonical", "sendgrid"]
ExportHeaderCase = Literal["upper", "lower"]

# Only the knobs whose strict value differs from the field default (the kind value).
PROFILE_DEFAULTS: Final[Mapping[Profile, Mapping[str, object]]] = {
    "kind": {},
    "strict": {
        "bad_values": "upfront",
        "custom_value_rules": "strict",
        "search_max_email_length": rules.MAX_SEARCH_EMAIL_LENGTH,
        "search_errors_name_email": False,
        "search_lag": 2.0,
        "removal_jobs_pollable": False,
        "errors_file_email_header": "Email Address",
        "errors_file_reason_header": "Error",
        "rate_limit_header_case": "sendgrid",
        "export_gzip": True,
    },
}


class Behaviour(BaseModel):
    """The knobs. Their defaults are the `kind` profile's; `profile` fills in the others.

    - `bad_values`: `upfront` refuses a whole upsert with a 400 listing every bad value;
      `in_job` accepts it and rejects the bad contacts inside the job.
    - `custom_value_rules`: `strict` takes only JSON numbers for Number fields, `MM/DD/YYYY`
      strings for Date fields and strings of at most 1,000 UTF-8 bytes for Text fields;
      `lenient` converts numeric strings and numbers and takes any Date value.
    - `search_max_email_length`, `search_errors_name_email`: search/emails refuses the whole
      call for an email longer than this or invalid; the error names `emails[i]` or nothing.
    - `search_lag`: seconds before a change is seen by search/emails.
    - `removal_jobs_pollable`: whether `DELETE /lists/{id}/contacts` jobs can be polled.
    - `errors_file_*`: the errors file's format, column headers, and how many rejected
      contacts it leaves out (while `errored_count` still counts them); with
      `errors_file_expired`, its link answers 403 as an expired signed link does.
    - `contact_limit`: the most contacts the account may hold; None is unlimited.
      `contact_limit_per_contact`: instead of failing the whole job without an errors file,
      apply what fits and refuse each new contact past the limit in the errors file, with
      the same message (where SendGrid puts it is not documented).
    - `rate_limit_header_case`: `X-RateLimit-*` (canonical) or `X-Ratelimit-*` (sendgrid).
    - `legacy_account`: every Marketing endpoint answers 403; `GET /v3/scopes` still works.
    - `export_*`: gzip'd export files, at most this many contacts a file, header case.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile: Profile = "kind"
    bad_values: BadValues = "in_job"
    custom_value_rules: ValueRules = "lenient"
    search_max_email_length: int = Field(default=rules.EMAIL_MAX_LENGTH, ge=1)
    search_errors_name_email: bool = True
    search_lag: float = Field(default=0.0, ge=0)
    removal_jobs_pollable: bool = True
    errors_file_format: ErrorsFileFormat = "csv"
    errors_file_email_header: str = Field(default="email", min_length=1)
    errors_file_reason_header: str = Field(default="error", min_length=1)
    errors_file_omits: int = Field(default=0, ge=0)
    errors_file_expired: bool = False
    contact_limit: int | None = Field(default=None, ge=0)
    contact_limit_per_contact: bool = False
    rate_limit_header_case: HeaderCase = "canonical"
    legacy_account: bool = False
    export_gzip: bool = False
    export_file_rows: int | None = Field(default=None, ge=1)
    export_header_case: ExportHeaderCase = "upper"

    @model_validator(mode="before")
    @classmethod
    def _profile_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        # An unknown profile has no defaults; the `profile` field then reports it.
        defaults = PROFILE_DEFAULTS.get(data.get("profile", "kind"), {})
        return {**defaults, **data}

    def changed(self, changes: Mapping[str, object]) -> Behaviour:
        """These knobs changed. Naming a profile starts again from that profile's defaults."""
        base: dict[str, object] = {} if "profile" in changes else self.knobs()
        return Behaviour.model_validate({**base, **changes})

    def knobs(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in Behaviour.model_fields}
