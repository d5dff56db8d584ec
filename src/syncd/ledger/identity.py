"""Which ledger a process works on, as a short name safe to show anyone.

The daemon serves it (`GET /v1/info`) and writes it in the SQLite ledger's lock file; the
CLI computes it from its own `SYNCD_STATE` and talks to a daemon only when the two match,
so it never reports or triggers another ledger's destinations.
"""

from __future__ import annotations

import hashlib
import os
from urllib.parse import urlsplit

from syncd.settings import is_postgres_url


def ledger_identity(state: str) -> str:
    """A hash of the SQLite file's real path, or of a PostgreSQL URL without its user and
    password (host, port, database, options)."""
    if is_postgres_url(state):
        try:
            parts = urlsplit(state)
            where = f"{parts.hostname}:{parts.port}{parts.path}?{parts.query}"
        except ValueError:
            where = "postgresql"
    else:
        where = os.path.realpath(state)
    return hashlib.sha256(where.encode()).hexdigest()[:16]
