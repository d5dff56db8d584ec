"""The destination file: one `SendGridDestination` per YAML file, validated strictly.

The models only describe; reading files, resolving relative paths and secrets
happen elsewhere (loading, reconciling). Field names are snake_case in Python and
camelCase in YAML, like Kubernetes objects.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.alias_generators import to_camel

from syncd.durations import Duration

NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
CUSTOM_FIELD_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,99}$"
LIST_ID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def _title_from_alias(name: str, info: Any) -> str:
    return str(info.alias or name)


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        # Only the YAML spelling is accepted: `listId` and `list_id` side by side
        # must not let one silently override the other.
        validate_by_name=False,
        validate_by_alias=True,
        field_title_generator=_title_from_alias,
    )


class SecretRef(_Model):
    """Where a secret lives; never the secret itself."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})

    env: str | None = Field(default=None, description="Name of an environment variable.")
    file: str | None = Field(
        default=None, description="Path of a file holding the secret (a mounted Secret)."
    )

    @model_validator(mode="before")
    @classmethod
    def _refuse_inline(cls, data: Any) -> Any:
        if isinstance(data, str):
            raise ValueError(
                "inline secrets are refused: put the value in an environment variable or a "
                "mounted file and write {env: NAME} or {file: PATH}"
            )
        return data

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of env or file")
        return self

    def describe(self) -> str:
        """Where the secret is, for messages: `env NAME` or `file PATH`; never its value."""
        return f"env {self.env}" if self.env is not None else f"file {self.file}"


class SendGrid(_Model):
    api_key: SecretRef = Field(description="The SendGrid API key, by reference.")
    list_id: Annotated[str, Field(pattern=LIST_ID_PATTERN), AfterValidator(str.lower)] = Field(
        description="Id (a UUID) of an existing SendGrid Marketing list."
    )
    base_url: Annotated[str, Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$")] | None = Field(
        default=None,
        description="API endpoint, e.g. https://api.eu.sendgrid.com; SYNCD_SENDGRID_BASE_URL wins.",
    )


class Consent(_Model):
    data_privacy_acknowledged: bool = Field(
        description="Must be true: the data owner agreed to export these profiles to SendGrid."
    )


class CsvSource(_Model):
    path: str = Field(description="CSV file with a header row; relative to the destination file.")
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","
    encoding: str = "utf-8"


class JsonlSource(_Model):
    path: str = Field(description="JSON Lines file, one object a line; relative paths as for csv.")


class SqliteSource(_Model):
    path: str = Field(description="SQLite database file, opened read-only.")
    query: Annotated[str, Field(min_length=1)] = Field(description="A SELECT returning the rows.")
    statement_timeout: Duration = Field(
        default="10m",  # parsed: validate_default
        validate_default=True,
        description="The query is ended once it has run this long, its fetches summed; 0: never.",
    )


class PostgresSource(_Model):
    dsn: SecretRef = Field(description="Connection string, by reference (it holds a password).")
    query: Annotated[str, Field(min_length=1)] = Field(description="A SELECT returning the rows.")
    statement_timeout: Duration = Field(
        default="10m",  # parsed: validate_default
        validate_default=True,
        description="The query is cancelled after this long.",
    )


class Source(_Model):
    """Exactly one kind of source."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})

    csv: CsvSource | None = None
    jsonl: JsonlSource | None = None
    sqlite: SqliteSource | None = None
    postgres: PostgresSource | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Source:
        given = [k for k in ("csv", "jsonl", "sqlite", "postgres") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one source kind: csv, jsonl, sqlite or postgres")
        return self

    @property
    def options(self) -> CsvSource | JsonlSource | SqliteSource | PostgresSource:
        for option in (self.csv, self.jsonl, self.sqlite, self.postgres):
            if option is not None:
                return option
        raise AssertionError("validated to hold exactly one source")


class Segment(_Model):
    name: Annotated[str, Field(min_length=1, max_length=63, pattern=NAME_PATTERN)]
    source: Source


Column = Annotated[str, Field(min_length=1, max_length=200)]


class Mapping(_Model):
    """SendGrid field ← source column. Only `email` is required."""

    # Keys are SendGrid's own field names, so they keep SendGrid's snake_case.
    model_config = ConfigDict(alias_generator=None)

    email: Column
    first_name: Column | None = None
    last_name: Column | None = None
    address_line_1: Column | None = None
    address_line_2: Column | None = None
    city: Column | None = None
    state_province_region: Column | None = None
    postal_code: Column | None = None
    country: Column | None = None
    custom_fields: dict[Annotated[str, Field(pattern=CUSTOM_FIELD_NAME_PATTERN)], Column] = Field(
        default_factory=dict, description="SendGrid custom field name ← source column."
    )

    def reserved(self) -> dict[str, str]:
        """Reserved SendGrid field → column, in a fixed order (the payload's order)."""
        pairs = self.model_dump(exclude={"custom_fields"}, exclude_none=True)
        return {field: column for field, column in pairs.items() if isinstance(column, str)}


def _valid_cron(expression: str) -> str:
    if not croniter.is_valid(expression):
        raise ValueError("not a valid cron expression (five fields: minute hour day month weekday)")
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


class Schedule(_Model):
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


class Limits(_Model):
    max_profiles: Annotated[int, Field(ge=1)] = Field(
        default=100_000,
        description="More distinct profiles than this fails the run before anything is sent.",
    )
    max_removal_fraction: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=0.2,
        description="A run that would remove more than this share of the list is held back "
        "until confirmed with --allow-removals; an empty segment never removes.",
    )


class Metadata(_Model):
    name: Annotated[str, Field(min_length=1, max_length=63, pattern=NAME_PATTERN)]


OnLeave = Literal["removeFromList", "keep", "deleteContact"]


class Audit(_Model):
    """How often syncd reads the real list back and compares it with the segment, and what
    it does about what differs. Omitted: an audit every 24 h that only reports."""

    schedule: Schedule = Field(
        default_factory=lambda: Schedule.model_validate({"interval": "24h"}),
        description="When to audit: every `interval`, or on a `cron` expression.",
    )
    heal: bool = Field(
        default=False,
        description="true sends missing and stale contacts again, through the normal outbox.",
    )
    prune: bool = Field(
        default=False,
        description="true takes contacts that are on the list but in no segment off the list "
        "(never out of the account, whatever onLeave says), under maxRemovalFraction of the "
        "list's size.",
    )
    on_count_mismatch: bool = Field(
        default=True,
        description="true starts an audit early when the list's contact count strays from "
        "what the ledger expects beyond SYNCD_AUDIT_COUNT_TOLERANCE past the settle window.",
    )


class Spec(_Model):
    display_name: str | None = Field(default=None, description="A human name for dashboards.")
    suspend: bool = Field(default=False, description="true pauses every run of the destination.")
    sendgrid: SendGrid
    consent: Consent
    segments: Annotated[list[Segment], Field(min_length=1, max_length=50)] = Field(
        description="One or more segments; a contact in several is sent once, first one wins."
    )
    mapping: Mapping
    schedule: Schedule = Field(
        default_factory=lambda: Schedule.model_validate({"interval": "1h"}),
        description="When to refresh; on-demand runs come on top.",
    )
    on_leave: OnLeave = Field(
        default="removeFromList",
        description="What happens to contacts that leave every segment: removeFromList "
        "(default), keep, or deleteContact (deletes them from the SendGrid account).",
    )
    limits: Limits = Field(default_factory=lambda: Limits.model_validate({}))
    audit: Audit = Field(
        default_factory=lambda: Audit.model_validate({}),
        description="Reading the real list back to find and heal drift (`syncd audit`).",
    )

    @model_validator(mode="after")
    def _unique_segment_names(self) -> Spec:
        names = [segment.name for segment in self.segments]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(f"segment names must be unique; repeated: {', '.join(duplicated)}")
        return self


class Destination(_Model):
    api_version: Literal["syncd/v1"]
    kind: Literal["SendGridDestination"]
    metadata: Metadata
    spec: Spec

    @property
    def name(self) -> str:
        return self.metadata.name


def json_schema() -> dict[str, Any]:
    """JSON Schema of a destination file, for editors and CI."""
    schema = Destination.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/syncd/syncd/schemas/destination-v1.json"
    schema["title"] = "syncd SendGridDestination (syncd/v1)"
    return schema
