"""Secrets by reference: `{env: NAME}` or `{file: PATH}`, read at run time.

Read on every run (and again after a 401), so a rotated Kubernetes Secret is
picked up without a restart. Every value read is registered with the log
scrubber before anyone can print it.
"""

from __future__ import annotations

import os
from pathlib import Path

from syncd.destinations import SecretRef
from syncd.errors import PermanentError
from syncd.logs import register_secret

MAX_SECRET_BYTES = 64 * 1024


class SecretMissing(PermanentError):
    """The referenced secret is not there; the message says where syncd looked."""


def read_secret(ref: SecretRef, *, base_dir: Path, what: str) -> str:
    if ref.env is not None:
        value = os.environ.get(ref.env, "").strip()
        if not value:
            raise SecretMissing(
                f"{what}: environment variable {ref.env} is not set or empty; set it, "
                "or point the reference at a file"
            )
    else:
        assert ref.file is not None
        path = Path(ref.file)
        path = path if path.is_absolute() else base_dir / path
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_SECRET_BYTES + 1)
        except OSError as error:
            raise SecretMissing(
                f"{what}: cannot read secret file {path}: {error.strerror or 'unreadable'}"
            ) from None
        if len(raw) > MAX_SECRET_BYTES:
            raise SecretMissing(f"{what}: secret file {path} is larger than 64 KiB")
        value = raw.decode("utf-8", errors="replace").strip()
        if not value:
            raise SecretMissing(f"{what}: secret file {path} is empty")
    register_secret(value)
    return value
