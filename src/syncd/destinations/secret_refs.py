"""A reference to a secret: where it lives (an environment variable or a file), never its value.

Used wherever the destination file needs a secret (the SendGrid API key, a PostgreSQL
source's connection string); reading the secret happens elsewhere (credentials).
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, model_validator

from syncd.destinations.base import StrictModel


class SecretRef(StrictModel):
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
