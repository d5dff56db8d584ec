"""Paths, sizes and the destination-file builder shared by the bad-input corpus."""

from __future__ import annotations

import uuid
from pathlib import Path

import yaml

HERE = Path(__file__).parent
DESTINATIONS = HERE / "destinations"
SOURCES = HERE / "sources"
MIB = 1024 * 1024


def list_id(name: str) -> str:
    """A stable list id per corpus case (one list, one owner)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"syncd-corpus:{name}"))


def destination_text(name: str, *, list_key: str | None = None, **spec: object) -> str:
    document = {
        "apiVersion": "syncd/v1",
        "kind": "SendGridDestination",
        "metadata": {"name": name},
        "spec": {
            "sendgrid": {
                "apiKey": {"env": "SENDGRID_API_KEY"},
                "listId": list_id(list_key or name),
            },
            "consent": {"dataPrivacyAcknowledged": True},
            "segments": [{"name": "main", "source": {"csv": {"path": "a.csv"}}}],
            "mapping": {"email": "Email"},
            **spec,
        },
    }
    return yaml.safe_dump(document, sort_keys=False)
