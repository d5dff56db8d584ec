"""The JSON syncd speaks, one shape per thing, for the CLI (`--output json`) and the HTTP API.

Rules every shape follows:
- camelCase keys; times as RFC 3339 UTC (`2026-11-29T22:15:03Z`); durations in seconds
  (`...Seconds`); counts as integers, every key present.
- The same object for one thing wherever it appears: a destination's status is identical in
  `GET /v1/destinations`, `GET /v1/destinations/{name}` and `syncd status --output json`.
- Every document carries `schemaVersion`; additive changes keep it, removals and renames
  bump it. `syncd schema --status|--plan|...` prints each document's JSON Schema, generated
  from these models (docs/schemas/ holds the committed copies; a test keeps them equal).
- Addresses are masked (`a***@example.com`) unless the caller asked for personal data.

The models only describe; each producer (scheduling, reconciling, the ledger) fills them.
"""

from __future__ import annotations

from typing import Any

from syncd.shapes.common import (
    SCHEMA_VERSION,
    Counts,
    Outcome,
    Phase,
    Problem,
    Progress,
    ReadPath,
    Run,
    SchemaVersion,
    Shape,
    Trigger,
    iso,
    mask_email,
)
from syncd.shapes.documents import (
    AuditReport,
    DriftCounts,
    DriftExamples,
    ErrorBody,
    ErrorDocument,
    FileValidation,
    Healing,
    OnlineCheck,
    ValidationDocument,
)
from syncd.shapes.explain import (
    Acknowledgement,
    BatchRecord,
    BatchState,
    ContactInDestination,
    ContactState,
    Departure,
    ExplainDocument,
    FieldValue,
    LiveContact,
    PendingRemoval,
    RejectionRecord,
    SourceRow,
)
from syncd.shapes.plans import (
    STOPS_BEFORE_THE_DIFF,
    Example,
    Examples,
    FieldChange,
    Guard,
    GuardName,
    PlanDocument,
    PlanEntry,
    PlanResult,
)
from syncd.shapes.status import (
    Condition,
    DestinationStatus,
    Drift,
    InvalidFile,
    RejectedRow,
    RejectedRows,
    RunHistory,
    State,
    StatusDocument,
)

__all__ = [
    "DOCUMENTS",
    "SCHEMA_VERSION",
    "STOPS_BEFORE_THE_DIFF",
    "Acknowledgement",
    "AuditReport",
    "BatchRecord",
    "BatchState",
    "Condition",
    "ContactInDestination",
    "ContactState",
    "Counts",
    "Departure",
    "DestinationStatus",
    "Drift",
    "DriftCounts",
    "DriftExamples",
    "ErrorBody",
    "ErrorDocument",
    "Example",
    "Examples",
    "ExplainDocument",
    "FieldChange",
    "FieldValue",
    "FileValidation",
    "Guard",
    "GuardName",
    "Healing",
    "InvalidFile",
    "LiveContact",
    "OnlineCheck",
    "Outcome",
    "PendingRemoval",
    "Phase",
    "PlanDocument",
    "PlanEntry",
    "PlanResult",
    "Problem",
    "Progress",
    "ReadPath",
    "RejectedRow",
    "RejectedRows",
    "RejectionRecord",
    "Run",
    "RunHistory",
    "SchemaVersion",
    "Shape",
    "SourceRow",
    "State",
    "StatusDocument",
    "Trigger",
    "ValidationDocument",
    "iso",
    "json_schema",
    "mask_email",
]

DOCUMENTS: dict[str, type[Shape]] = {
    "status": StatusDocument,
    "history": RunHistory,
    "rejections": RejectedRows,
    "plan": PlanDocument,
    "validation": ValidationDocument,
    "explain": ExplainDocument,
    "audit": AuditReport,
    "error": ErrorDocument,
}
"""The documents `syncd schema --NAME` prints the JSON Schema of."""


def json_schema(document: str) -> dict[str, Any]:
    schema = DOCUMENTS[document].model_json_schema(by_alias=True, mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://github.com/syncd/syncd/schemas/{document}-v1.json"
    return schema
