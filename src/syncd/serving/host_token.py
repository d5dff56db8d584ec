"""The host token: `syncd sync NAME --allow-removals` on the daemon's own host, without
SYNCD_ADMIN_TOKEN.

Without SYNCD_ADMIN_TOKEN the admin server listens on loopback only, which every local
process can reach (another user, another container of the pod), so lifting the
removal guard still takes a secret: a random token the daemon writes beside its SQLite
ledger, readable by its owner alone (0600), and removes when it stops. The CLI, run by
that owner, reads it to ask the daemon (the daemon holds the ledger, so the CLI cannot
run the sync itself). With the shared PostgreSQL ledger there is no such file:
`syncd sync` runs in its own process there.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from syncd.logs import register_secret
from syncd.settings import is_postgres_url

SUFFIX = ".admin-token"


def host_token_path(state: str) -> Path | None:
    """Beside a SQLite ledger; None for a PostgreSQL one."""
    if is_postgres_url(state):
        return None
    return Path(state).with_name(Path(state).name + SUFFIX)


def create_host_token(path: Path) -> str:
    """A new random token, written for the owner alone (replacing any earlier one)."""
    token = secrets.token_urlsafe(32)
    register_secret(token)
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
    partial.replace(path)
    return token


def read_host_token(path: Path) -> str | None:
    """The token a running daemon wrote, or None (no daemon, another user's, unreadable)."""
    try:
        if not path.is_file():  # never open a FIFO planted there: it would block
            return None
        token = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if token:
        register_secret(token)
    return token or None


def remove_host_token(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
