"""The parts of one emulator that its handlers share, reachable from any request."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from syncd.emulator.config import EmulatorConfig
from syncd.emulator.exports import ExportRunner
from syncd.emulator.faults import FaultBook
from syncd.emulator.jobs import JobRunner
from syncd.emulator.profiles import Behaviour
from syncd.emulator.ratelimit import RateLimiter
from syncd.emulator.recording import Exchange, RequestRecord
from syncd.emulator.search_index import SearchIndex
from syncd.emulator.seeding import apply_seed
from syncd.emulator.store import Store


@dataclass
class Services:
    config: EmulatorConfig
    store: Store
    search: SearchIndex
    jobs: JobRunner
    exports: ExportRunner
    faults: FaultBook
    limiter: RateLimiter
    api_keys: dict[str, frozenset[str]]
    behaviour: Behaviour = field(
        default_factory=Behaviour
    )  # the knobs now; the admin API may change them
    requests: list[RequestRecord] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)

    def start(self) -> None:
        """The state at start: the seeded account, the configured faults and knobs."""
        self.behaviour = self.config.behaviour
        apply_seed(self.store, self.config)
        for rule in self.config.faults:
            self.faults.add(rule)

    def base_url(self, request: web.Request) -> str:
        """Where absolute links point: the origin the request was sent to."""
        return str(request.url.origin())


SERVICES = web.AppKey("syncd_emulator_services", Services)

# Facts a handler leaves on the request for the request log.
CONTACT_COUNT = web.RequestKey("syncd_emulator_contact_count", int)
JOB_ID = web.RequestKey("syncd_emulator_job_id", str)
