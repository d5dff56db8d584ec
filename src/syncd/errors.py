"""The error tree, classified by what the scheduler should do next.

```
SyncdError
├── DefinitionError              bad destination file; parked until the file changes
├── TemporaryError(retry_after)  retry with backoff or at the server's reset time
│   ├── SourceUnavailable        a source could not be read right now
│   ├── LedgerUnavailable        the state store could not be reached
│   ├── ClaimLost                another run claimed the destination since this one did
│   └── SendGridUnavailable      connection errors, timeouts, 5xx, 429
└── PermanentError               no retry until the definition changes or a person acts
    ├── SourceInvalid            the source is readable but wrong (bad SQL, missing column)
    ├── SendGridRejected         401/403/404/400 ... with what to fix (re-checked slowly)
    ├── SendGridStalled          SendGrid keeps failing work it should take (contact limit)
    ├── GuardTripped             max profiles, removal guard, consent missing
    ├── LedgerConflict           another process owns the ledger
    └── LedgerCorrupt            the ledger file is damaged: restore it or start afresh
```

A permanent error with `recheck` set is tried again on a slow schedule
(`SYNCD_STALL_RECHECK`): its cause lies with SendGrid or the account, and may go away
without anyone touching syncd.

Every message is safe to log: it never carries an API key, a DSN password or
a raw email address.
"""

from __future__ import annotations

from syncd.shapes import Outcome


class SyncdError(Exception):
    """Base of every error syncd raises on purpose."""

    outcome: Outcome = "unexpected"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DefinitionError(SyncdError):
    """A destination file is invalid; the destination waits for the file to change."""

    outcome: Outcome = "permanent"


class TemporaryError(SyncdError):
    """Worth retrying: after `retry_after` seconds when the server said so, else with backoff."""

    outcome: Outcome = "temporary"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SourceUnavailable(TemporaryError):
    """A source could not be read now (server down, file being replaced)."""


class LedgerUnavailable(TemporaryError):
    """The ledger could not be reached or was busy."""


class ClaimLost(TemporaryError):
    """Another run claimed the destination since this one did (a `syncd sync` beside the
    daemon, a replica that took it over): this run stops without committing. Nothing is
    wrong with the destination, so it is tried again later (an owner that lost it for
    good, a replica, no longer schedules it), never stalled."""


class SendGridUnavailable(TemporaryError):
    """SendGrid did not answer usefully: connection error, timeout, 5xx or 429."""


class PermanentError(SyncdError):
    """Retrying will not help until the definition changes or a person acts."""

    outcome: Outcome = "permanent"
    recheck = False
    """True: worth trying again on a slow schedule (the cause may clear by itself)."""


class SourceInvalid(PermanentError):
    """The source answered, but not with what the destination needs."""


class SendGridRejected(PermanentError):
    """SendGrid refused the request for a reason retrying cannot fix."""

    def __init__(self, message: str, *, status: int, excerpt: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.excerpt = excerpt
        # A revoked key, a missing scope, a deleted list: fixed in SendGrid, not in syncd.
        self.recheck = status in (401, 403, 404)


class SendGridStalled(PermanentError):
    """SendGrid keeps failing work it should take: a job failed as a whole (the account's
    contact limit), or a batch it never confirms. Nothing is charged to the contacts."""

    recheck = True


class GuardTripped(PermanentError):
    """A safety guard stopped the run: nothing unsafe was sent."""

    outcome: Outcome = "guard"


class LedgerConflict(PermanentError):
    """Another process owns the ledger (its file's lock), or a newer syncd wrote it."""


class LedgerCorrupt(PermanentError):
    """The ledger's file is damaged; syncd cannot tell what SendGrid acknowledged."""
