"""What the emulator remembers of its traffic: a light log of every `/v3/` request, and
optionally each exchange whole (for the contract tests)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

# Templates of POSTs that change the account; other POSTs (search, export) only read.
_MUTATING_POSTS = frozenset({"POST /v3/marketing/lists", "POST /v3/marketing/field_definitions"})


@dataclass(frozen=True)
class RequestRecord:
    """One `/v3/` request. `status` is None when the connection was dropped unanswered."""

    method: str
    template: str
    path: str
    status: int | None
    time: float  # wall clock, epoch seconds
    loop_time: float
    contact_count: int | None = None  # contacts in an upsert, ids in a deletion
    job_id: str | None = None
    fault: str | None = None  # the kind of injected fault that shaped the answer

    @property
    def is_write(self) -> bool:
        return self.method in {"PUT", "PATCH", "DELETE"} or self.template in _MUTATING_POSTS

    def as_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Exchange:
    """One `/v3/` request and its response, as sent on the wire."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: dict[str, str]
    body: bytes
    template: str
    status: int | None  # None: the connection was dropped, there is no response
    response_headers: dict[str, str]
    response_body: bytes | None
