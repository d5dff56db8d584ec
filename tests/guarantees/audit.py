"""The audit: what SendGrid (the emulator) holds and what was sent, against the final source."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from multidict import CIMultiDict

from syncd.emulator import Emulator
from syncd.emulator.jobs import ListRemovalWork, UpsertWork
from tests.guarantees.common import JOB, LIST_ID, REMOVE, REMOVED, TERMINAL, UPSERT
from tests.guarantees.source import Person

# -- the audit ---------------------------------------------------------------------------


@dataclass
class Audit:
    lost: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    contact_sends: int = 0
    send_requests: int = 0
    repeats: int = 0
    retries: int = 0
    redundant: int = 0
    unnecessary: int = 0
    redundant_requests: set[str] = field(default_factory=set)
    unnecessary_requests: set[str] = field(default_factory=set)
    overlaps: set[str] = field(default_factory=set)
    writes: int = 0
    jobs_by_email: dict[str, list[str]] = field(default_factory=dict)

    @property
    def lost_total(self) -> int:
        return len(self.lost) + len(self.extra)

    def figures(self) -> dict[str, int]:
        return {
            "lost": self.lost_total,
            "contact_sends": self.contact_sends,
            "send_requests": self.send_requests,
            "repeats": self.repeats,
            "retries": self.retries,
            "redundant": self.redundant,
            "redundant_requests": len(self.redundant_requests),
            "unnecessary": self.unnecessary,
            "unnecessary_requests": len(self.unnecessary_requests),
            "overlaps": len(self.overlaps),
            "writes": self.writes,
        }

    def requests_carrying(self, emails: Iterable[str]) -> set[str]:
        """Job ids of the sends (upserts or removals) that carried any of these addresses."""
        return {job for email in emails for job in self.jobs_by_email.get(email.lower(), [])}


def _applied(job: Any, email: str) -> bool:
    """Whether SendGrid (the emulator) really applied this job to this contact."""
    if job.status == "completed":
        return True
    if job.status == "errored":
        return email not in {rejected for rejected, _ in job.rejections}
    return False


def _payload(contact: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in contact.items() if k != "email"}, sort_keys=True)


async def audit(
    emulator: Emulator,
    expected: Mapping[str, Person],
    *,
    list_id: str = LIST_ID,
    settle: bool = True,
) -> Audit:
    """Compare the emulator with the final source, and classify every send.

    `settle` first applies any job still pending (an orphan of an ambiguous request, a
    held job): "quiet" means nothing is left to happen.
    """
    if settle:
        await emulator.settle()
    result = Audit()
    state = emulator.state
    members = state.list_members(list_id)
    field_id = state.field_id("loyalty_tier")
    for email, person in sorted(expected.items()):
        stored = state.contact(email) or {}
        custom = stored.get("custom_fields")
        if (
            email not in members
            or stored.get("first_name") != person.first
            or stored.get("last_name") != person.last
            or not isinstance(custom, dict)
            or custom.get(field_id) != person.tier
        ):
            result.lost.append(email)
    result.extra = sorted(members - expected.keys())
    result.writes = len(emulator.write_requests())

    last: dict[str, tuple[str, str]] = {}  # email → (payload, job id) of its previous send
    seen_applied: dict[str, str] = {}  # email → payload syncd saw a job apply
    open_jobs: dict[str, dict[str, str]] = {}  # email → {job id: payload} not seen to end
    carried: dict[str, dict[str, str]] = {}  # job id → {email: payload}
    seen_jobs: set[str] = set()

    def send(job_id: str, payloads: Mapping[str, str]) -> None:
        result.send_requests += 1
        carried[job_id] = dict(payloads)
        for email, payload in payloads.items():
            result.contact_sends += 1
            result.jobs_by_email.setdefault(email, []).append(job_id)
            still_open = open_jobs.setdefault(email, {})
            if any(other != payload for other in still_open.values()):
                result.overlaps.add(email)
            previous = last.get(email)
            if previous is not None and previous[0] == payload:
                result.repeats += 1
                if not _applied(emulator.jobs[previous[1]], email):
                    result.retries += 1
                elif seen_applied.get(email) == payload:
                    result.unnecessary += 1
                    result.unnecessary_requests.add(job_id)
                else:
                    result.redundant += 1
                    result.redundant_requests.add(job_id)
            still_open[job_id] = payload
            last[email] = (payload, job_id)

    def observe(job_id: str) -> None:
        if job_id in seen_jobs or job_id not in carried:
            return
        seen_jobs.add(job_id)
        job = emulator.jobs[job_id]
        for email, payload in carried[job_id].items():
            # The batch ended: so did every earlier send of the same batch (same value).
            open_jobs[email] = {
                j: p for j, p in open_jobs.get(email, {}).items() if j != job_id and p != payload
            }
            if _applied(job, email):
                seen_applied[email] = payload

    requests, exchanges = emulator.requests, emulator.exchanges
    assert len(requests) == len(exchanges), "record_exchanges must be on for the audit"
    pairs = list(zip(requests, exchanges, strict=True))
    # In the order requests reached SendGrid (a delayed one is logged when it ends).
    pairs.sort(key=lambda pair: pair[0].loop_time)
    for record, exchange in pairs:
        assert (record.method, record.path) == (exchange.method, exchange.path)
        if record.job_id is not None and record.status in (202, None):
            work = emulator.jobs[record.job_id].work
            if record.template == UPSERT and isinstance(work, UpsertWork):
                if list_id in work.list_ids:
                    send(
                        record.job_id,
                        {str(c["email"]).strip().lower(): _payload(c) for c in work.contacts},
                    )
            elif (
                record.template == REMOVE
                and isinstance(work, ListRemovalWork)
                and work.list_id == list_id
            ):
                emails = [found.email for i in work.contact_ids if (found := state.by_id(i))]
                send(record.job_id, dict.fromkeys(emails, REMOVED))
        elif record.template == JOB and exchange.status == 200 and exchange.response_body:
            body = json.loads(exchange.response_body)
            if body.get("status") in TERMINAL:
                observe(record.path.rsplit("/", 1)[-1])
    return result


def rate_limit_violations(emulator: Emulator) -> list[str]:
    """Requests that reached an endpoint after SendGrid had answered `X-RateLimit-Remaining: 0`
    for it and before the `X-RateLimit-Reset` it announced (one API key)."""
    pairs = sorted(zip(emulator.requests, emulator.exchanges, strict=True), key=lambda p: p[0].time)
    blocked: dict[str, tuple[float, float]] = {}  # template → (when it was said, reset)
    found = []
    for record, exchange in pairs:
        said = blocked.get(record.template)
        if said is not None and said[0] < record.time < said[1]:
            found.append(f"{record.template} at {record.time:.3f}, reset at {said[1]:.0f}")
        headers = CIMultiDict(exchange.response_headers)  # SendGrid spells X-Ratelimit-*
        if headers.get("X-RateLimit-Remaining") == "0":
            blocked[record.template] = (record.time, float(headers["X-RateLimit-Reset"]))
    return found
