"""`syncd probe --live`'s steps against the strict emulator over real HTTP, on fake loop time:
each knob flipped shows the other side of a finding, and nothing is ever left behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from syncd.clock import LoopClock
from syncd.emulator import ALL_SCOPES, Emulator, EmulatorConfig, FaultRule
from syncd.metrics import Metrics
from syncd.reconciling.probing import Finding, Pace, ProbeOptions, ProbeReport, run_probe
from syncd.reconciling.probing.judging import HeaderTally
from syncd.sendgrid import RateGate, SendGridClient, SendGridHttp
from tests.contract.validating import assert_exchanges_conform
from tests.fixtures_emulator import (
    TEST_API_KEY,
    TEST_LIST_ID,
    TEST_LIST_NAME,
    strict_emulator_config,
)

pytestmark = pytest.mark.looptime

NO_DELETE_KEY = "SG.no-delete-scope.0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL"
SCRATCH = "syncd-probe-scratch"
SEEDED_FIELDS = ["loyalty_tier", "orders"]


@pytest.fixture
def clock() -> LoopClock:
    return LoopClock()


@pytest.fixture
def emulator_config(clock: LoopClock) -> EmulatorConfig:
    keys = {TEST_API_KEY: ALL_SCOPES, NO_DELETE_KEY: ALL_SCOPES - {"marketing_campaigns.delete"}}
    return strict_emulator_config(wall_clock=clock.now, api_keys=keys)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


class Prober:
    def __init__(
        self, emulator: Emulator, session: aiohttp.ClientSession, clock: LoopClock
    ) -> None:
        self.emulator = emulator
        self.session = session
        self.clock = clock
        self.report = ProbeReport(emulator.url, SCRATCH)

    def knobs(self, **changes: object) -> None:
        behaviour = self.emulator.services.behaviour
        self.emulator.services.behaviour = behaviour.changed(changes)

    async def probe(
        self, *, key: str = TEST_API_KEY, list_name: str = SCRATCH, max_wait: float = 60.0
    ) -> dict[str, Finding]:
        tally = HeaderTally()
        http = SendGridHttp(
            self.session,
            self.emulator.url,
            lambda: key,
            RateGate(self.clock),
            Metrics(),
            key_hint="env SENDGRID_API_KEY",
            on_reply=tally.observe,
        )
        self.report = ProbeReport(self.emulator.url, list_name)
        options = ProbeOptions(list_name, pace=Pace(max_wait=max_wait))
        await run_probe(SendGridClient(http), options, self.report, tally)
        return {finding.behaviour: finding for finding in self.report.ordered()}

    def assert_nothing_left(self) -> None:
        state = self.emulator.state
        assert list(state.lists) == [TEST_LIST_ID]
        assert sorted(custom.name for custom in state.custom_fields.values()) == SEEDED_FIELDS
        assert state.contacts == {}
        assert self.emulator.services.jobs.pending == 0
        assert self.report.cleanup.complete, self.report.cleanup.left


@pytest.fixture
def prober(emulator: Emulator, session: aiohttp.ClientSession, clock: LoopClock) -> Prober:
    return Prober(emulator, session, clock)


async def test_the_strict_profile_agrees_with_every_assumption_it_shows(prober: Prober) -> None:
    prober.knobs(search_lag=2.0)

    found = await prober.probe()

    assert prober.report.error is None
    assert [f.behaviour for f in prober.report.ordered()] == list(found)
    assert {name for name, f in found.items() if f.agrees is None} == {
        "errors-file-layout",
        "errors-file-adds-up",
    }
    assert prober.report.disagreements == []
    assert found["bad-values-refused-up-front"].observed.startswith(
        "yes: refused whole with 400, 3 error(s), naming contacts[0].custom_fields.e3_N, "
        "contacts[0].custom_fields.e4_D, contacts[2].email"
    )
    assert found["blank-typed-values"].observed.startswith("refused up front: ")
    assert found["invalid-email"].observed == "refused up front: email: invalid email"
    assert found["date-format"].details == {"sent": "03/15/2024", "held": "03/15/2024"}
    assert found["search-lag"].details == {"seconds": 2.0}
    assert found["removal-job-pollable"].details == {"pollable": False}
    assert found["removal-applied"].details == {"listContactCount": 0, "seconds": 2.0}
    assert found["rate-limit-header-case"].observed.startswith("X-Ratelimit-Limit (")
    prober.assert_nothing_left()
    upserts = [e for e in prober.emulator.exchanges if e.template == "PUT /v3/marketing/contacts"]
    assert [e.status for e in upserts] == [400, 202]
    assert len({e.body for e in upserts}) == 2  # a refused body is never sent again
    assert_exchanges_conform(prober.emulator.exchanges)


async def test_bad_values_in_the_job_show_the_errors_file_as_sendgrid_writes_it(
    prober: Prober,
) -> None:
    prober.knobs(bad_values="in_job", errors_file_format="json")

    found = await prober.probe()

    assert found["bad-values-refused-up-front"].observed.startswith("no: ")
    assert found["blank-typed-values"].observed.startswith("rejected in the job: ")
    assert found["invalid-email"].observed == "rejected in the job: invalid email"
    layout = found["errors-file-layout"]
    assert (layout.agrees, layout.details["format"]) == (True, "json")
    assert layout.details["headers"] == ["Email Address", "Error"]
    assert (found["errors-file-adds-up"].agrees, found["errors-file-adds-up"].details) == (
        True,
        {"rows": 2, "erroredCount": 2},
    )
    prober.assert_nothing_left()


async def test_an_errors_file_short_of_rows_or_without_an_email_column_disagrees(
    prober: Prober,
) -> None:
    prober.knobs(bad_values="in_job", errors_file_omits=1, errors_file_email_header="Recipient")

    found = await prober.probe()

    assert found["errors-file-adds-up"].agrees is False
    assert found["errors-file-adds-up"].observed == (
        "1 row(s) in the errors file(s) for errored_count 2"
    )
    assert found["errors-file-layout"].agrees is False
    assert "found 0 address(es) in 1 row(s)" in found["errors-file-layout"].observed
    # The rejected contact the file leaves out was not made: nothing to delete, nothing left.
    prober.assert_nothing_left()


async def test_blank_typed_values_accepted_disagree_with_leaving_them_out(prober: Prober) -> None:
    prober.knobs(bad_values="in_job", custom_value_rules="lenient")

    found = await prober.probe()

    assert found["blank-typed-values"].agrees is False
    assert found["blank-typed-values"].observed == (
        'accepted: "" for a Number and a Date went through; SendGrid holds no value for either'
    )
    assert prober.report.disagreements == ["blank-typed-values"]
    prober.assert_nothing_left()


@pytest.mark.parametrize(
    ("pollable", "observed"),
    [(True, "pollable: the job ended completed"), (False, "not pollable: ")],
)
async def test_a_removal_job_is_polled_and_either_answer_is_reported(
    prober: Prober, pollable: bool, observed: str
) -> None:
    prober.knobs(removal_jobs_pollable=pollable)

    found = await prober.probe()

    assert found["removal-job-pollable"].observed.startswith(observed)
    assert found["removal-job-pollable"].agrees is True
    prober.assert_nothing_left()


@pytest.mark.parametrize(
    ("case", "spelled"), [("canonical", "X-RateLimit"), ("sendgrid", "X-Ratelimit")]
)
async def test_the_rate_limit_headers_are_reported_as_spelled_on_the_wire(
    prober: Prober, case: str, spelled: str
) -> None:
    prober.knobs(rate_limit_header_case=case)

    found = await prober.probe()

    spellings = found["rate-limit-header-case"].details["spellings"]
    assert found["rate-limit-header-case"].agrees is True
    assert isinstance(spellings, dict)
    assert set(spellings) == {f"{spelled}-{p}" for p in ("Limit", "Remaining", "Reset")}


async def test_a_search_that_never_catches_up_is_reported_and_the_contacts_go_with_the_list(
    prober: Prober,
) -> None:
    prober.knobs(search_lag=3600.0)

    found = await prober.probe(max_wait=30.0)

    assert found["search-lag"].observed == (
        "the contacts were not found with their list and values within 30 s"
    )
    assert found["search-lag"].agrees is None  # 30 s is less than syncd's removal window
    assert found["removal-applied"].agrees is None
    assert found["date-format"].agrees is None
    notes = [c.note for c in prober.report.cleanup.deleted if c.kind == "contacts"]
    assert notes == ["deleted with the scratch list (delete_contacts=true)"]
    prober.assert_nothing_left()


async def test_a_failing_search_stops_the_probe_which_still_cleans_up(prober: Prober) -> None:
    prober.emulator.faults.add(
        FaultRule(kind="status", template="POST /v3/marketing/contacts/search/emails", status=503)
    )

    found = await prober.probe()

    assert prober.report.error is not None
    assert prober.report.error.code == "stopped"
    assert "POST /v3/marketing/contacts/search/emails: SendGrid answered 503" in (
        prober.report.error.message
    )
    assert found["bad-values-refused-up-front"].agrees is True  # what was seen before stays
    assert found["search-lag"].observed == "the probe stopped before it"
    prober.emulator.faults.clear()
    prober.assert_nothing_left()


async def test_a_refused_removal_stops_the_probe_which_still_deletes_the_contacts(
    prober: Prober,
) -> None:
    removal = "DELETE /v3/marketing/lists/{id}/contacts"
    prober.emulator.faults.add(FaultRule(kind="status", template=removal, status=400))

    await prober.probe()

    assert prober.report.error is not None
    assert prober.report.error.message.startswith(
        "SendGrid refused to take the example contacts off the list: "
    )
    assert [c.kind for c in prober.report.cleanup.deleted] == [
        "contacts",
        "list",
        "customField",
        "customField",
    ]
    prober.assert_nothing_left()


async def test_a_job_failed_as_a_whole_made_no_contact_to_delete(prober: Prober) -> None:
    prober.emulator.faults.add(
        FaultRule(kind="job_failed", template="PUT /v3/marketing/contacts", times=1)
    )

    found = await prober.probe()

    assert found["date-format"].observed.startswith("its job failed as a whole")
    assert found["search-lag"].agrees is None
    prober.assert_nothing_left()


async def test_a_taken_list_name_is_refused_before_anything_is_made(prober: Prober) -> None:
    await prober.probe(list_name=TEST_LIST_NAME)

    assert prober.report.error is not None
    assert prober.report.error.code == "cannotStart"
    assert prober.report.error.message.startswith(
        f"a list named {TEST_LIST_NAME!r} exists already (id {TEST_LIST_ID})"
    )
    assert prober.emulator.write_requests() == []
    assert prober.report.cleanup.deleted == []


async def test_a_key_without_the_delete_scope_is_refused_before_any_write(prober: Prober) -> None:
    found = await prober.probe(key=NO_DELETE_KEY)

    assert found["scopes"].agrees is False
    assert "missing marketing_campaigns.delete" in found["scopes"].observed
    assert prober.report.error is not None
    assert prober.report.error.code == "cannotStart"
    assert prober.emulator.write_requests() == []


async def test_probe_fields_that_exist_are_used_and_kept(prober: Prober) -> None:
    prober.emulator.state.add_custom_field("syncd_probe_number", "Number")

    await prober.probe()

    kept = [(c.name, c.note) for c in prober.report.cleanup.kept]
    assert kept == [("syncd_probe_number", "it existed before the probe")]
    names = sorted(custom.name for custom in prober.emulator.state.custom_fields.values())
    assert names == [*SEEDED_FIELDS, "syncd_probe_number"]


async def test_a_probe_field_of_another_type_stops_the_probe_which_removes_its_list(
    prober: Prober,
) -> None:
    prober.emulator.state.add_custom_field("syncd_probe_date", "Text")

    await prober.probe()

    assert prober.report.error is not None
    assert prober.report.error.message.startswith(
        "the custom field syncd_probe_date exists as a Text field"
    )
    assert list(prober.emulator.state.lists) == [TEST_LIST_ID]
    assert len(prober.emulator.state.custom_fields) == 3


async def test_an_interrupted_probe_cleans_up_before_it_ends(prober: Prober) -> None:
    prober.knobs(search_lag=3600.0)
    task = asyncio.create_task(prober.probe(max_wait=600.0))
    while not prober.emulator.state.contacts:
        await asyncio.sleep(0.5)
    await asyncio.sleep(5)  # searching, in vain

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert prober.report.error is not None
    assert prober.report.error.code == "interrupted"
    prober.assert_nothing_left()
