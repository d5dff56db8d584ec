"""The destination file's document: its metadata and spec, and the parts only the spec has.

A `Destination` is one `SendGridDestination` file: which list it fills (`SendGrid`),
the consent it was given, its segments, how their columns map to SendGrid's fields,
when it runs, what happens to leavers, its limits and its audit. `json_schema` is the
JSON Schema of that file, for editors and CI.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from syncd.destinations.base import (
    CUSTOM_FIELD_NAME_PATTERN,
    LIST_ID_PATTERN,
    NAME_PATTERN,
    StrictModel,
)
from syncd.destinations.schedules import Audit, Schedule
from syncd.destinations.secret_refs import SecretRef
from syncd.destinations.segments import Segment


class SendGrid(StrictModel):
    api_key: SecretRef = Field(description="The SendGrid API key, by reference.")
    list_id: Annotated[str, Field(pattern=LIST_ID_PATTERN), AfterValidator(str.lower)] = Field(
        description="Id (a UUID) of an existing SendGrid Marketing list."
    )
    base_url: Annotated[str, Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$")] | None = Field(
        default=None,
        description="API endpoint, e.g. https://api.eu.sendgrid.com; SYNCD_SENDGRID_BASE_URL wins.",
    )


class Consent(StrictModel):
    # `true` only: "yes" or 1 would acknowledge consent for someone who did not write true.
    data_privacy_acknowledged: bool = Field(
        strict=True,
        description="Must be true: the data owner agreed to export these profiles to SendGrid.",
    )


Column = Annotated[str, Field(min_length=1, max_length=200)]


class Mapping(StrictModel):
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


class Limits(StrictModel):
    # Strict: `true` read as 1, `"0.5"` as a number, would pass for what was not written.
    max_profiles: Annotated[int, Field(ge=1, strict=True)] = Field(
        default=100_000,
        description="More distinct profiles than this fails the run before anything is sent.",
    )
    max_removal_fraction: Annotated[float, Field(ge=0.0, le=1.0, strict=True)] = Field(
        default=0.2,
        description="A run that would remove more than this share of the list is held back "
        "until confirmed with --allow-removals; an empty segment never removes.",
    )


class Metadata(StrictModel):
    name: Annotated[str, Field(min_length=1, max_length=63, pattern=NAME_PATTERN)]


OnLeave = Literal["removeFromList", "keep", "deleteContact"]


class Spec(StrictModel):
    display_name: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="A human name for dashboards (200 characters at most)."
    )
    suspend: bool = Field(
        default=False, strict=True, description="true pauses every run of the destination."
    )
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


class Destination(StrictModel):
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
