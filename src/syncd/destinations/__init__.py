"""The destination file: one `SendGridDestination` per YAML file, validated strictly.

The models only describe; reading files, resolving relative paths and secrets
happen elsewhere (loading, reconciling). Field names are snake_case in Python and
camelCase in YAML, like Kubernetes objects.
"""

from syncd.destinations.base import (
    CUSTOM_FIELD_NAME_PATTERN,
    LIST_ID_PATTERN,
    NAME_PATTERN,
)
from syncd.destinations.schedules import Audit, Schedule
from syncd.destinations.secret_refs import SecretRef
from syncd.destinations.segments import (
    CsvSource,
    JsonlSource,
    PostgresSource,
    Segment,
    Source,
    SqliteSource,
)
from syncd.destinations.spec import (
    Column,
    Consent,
    Destination,
    Limits,
    Mapping,
    Metadata,
    OnLeave,
    SendGrid,
    Spec,
    json_schema,
)

__all__ = [
    "CUSTOM_FIELD_NAME_PATTERN",
    "LIST_ID_PATTERN",
    "NAME_PATTERN",
    "Audit",
    "Column",
    "Consent",
    "CsvSource",
    "Destination",
    "JsonlSource",
    "Limits",
    "Mapping",
    "Metadata",
    "OnLeave",
    "PostgresSource",
    "Schedule",
    "SecretRef",
    "Segment",
    "SendGrid",
    "Source",
    "Spec",
    "SqliteSource",
    "json_schema",
]
