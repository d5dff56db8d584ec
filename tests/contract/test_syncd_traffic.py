"""Every request syncd itself sends, and every answer it gets, conforms to SendGrid's spec.

Runs the engine through its whole repertoire against the emulator (upserts with custom
fields, updates, removals with id lookups, contact deletion, errored jobs, a 429, a
dry run) with exchanges recorded, then validates each one.
"""

from __future__ import annotations

from syncd.emulator import FaultRule
from tests.contract.validating import assert_exchanges_conform
from tests.reconciling.world import World, people

UPSERT = "PUT /v3/marketing/contacts"


async def test_a_full_repertoire_of_syncd_requests_conforms(sync_world: World) -> None:
    w = sync_world
    rows = people(0, 120)
    w.destination({"vip": w.csv("vip", rows), "more": w.jsonl("more", people(200, 10))})
    await w.sync(dry_run=True)
    w.emulator.faults.add(FaultRule(kind="rate_limit_storm", template=UPSERT, times=1, seconds=1))
    w.emulator.faults.add(FaultRule(kind="job_errored", template=UPSERT, count=2, times=1))
    assert (await w.sync()).outcome == "success"
    rows[5]["LastName"] = "Changed"
    del rows[100:]
    w.csv("vip", rows)
    assert (await w.sync(allow_removals=True)).outcome == "success"
    w.destination({"vip": w.csv("vip", rows[:90])}, onLeave="deleteContact")
    assert (await w.sync(allow_removals=True)).outcome == "success"

    templates = {exchange.template for exchange in w.emulator.exchanges}
    assert templates >= {
        "GET /v3/marketing/lists/{id}",
        "GET /v3/marketing/field_definitions",
        UPSERT,
        "GET /v3/marketing/contacts/imports/{id}",
        "POST /v3/marketing/contacts/search/emails",
        "DELETE /v3/marketing/lists/{id}/contacts",
        "DELETE /v3/marketing/contacts",
    }
    assert_exchanges_conform(w.emulator.exchanges)
