"""What every part of the destination file shares: the strict model, and the name patterns.

A destination file is validated strictly: unknown keys are refused, models are frozen,
and only the YAML spelling (camelCase, like Kubernetes objects) is accepted, never the
Python one beside it. Every model of the file is a `StrictModel`; the patterns are the
names a destination, a segment and a custom field may take.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
CUSTOM_FIELD_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,99}$"
LIST_ID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def _title_from_alias(name: str, info: Any) -> str:
    return str(info.alias or name)


class StrictModel(BaseModel):
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
