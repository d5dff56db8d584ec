"""Allowlists for tests about something else than the allowlists (tests/security has those)."""

from __future__ import annotations

from pathlib import Path

from syncd.allowlists import SENDGRID_API, Allowlists


def allowing(directory: Path) -> Allowlists:
    """Any variable but syncd's own (always refused); secret and source files anywhere in
    the tree that holds `directory` (as the default SYNCD_SOURCE_DIRS does for sources)."""
    tree = directory.parent
    return Allowlists(
        sendgrid_base_urls=(SENDGRID_API,),
        secret_env=("*",),
        secret_dirs=(tree,),
        source_dirs=(tree,),
    )
