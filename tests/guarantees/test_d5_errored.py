"""D5: an `errored` job: SendGrid rejects 3 of 1,000 contacts and applies the rest.

Required (docs/guarantees.md, row D5): the 997 are acknowledged (and never sent again); the
3 are retried, then reported as rejected with their rows and SendGrid's reason, and not sent
any more until their values change."""

from __future__ import annotations

import re

import pytest

from syncd.emulator import EmulatorConfig, FaultRule
from syncd.ledger import RETRY_BUDGET
from tests.guarantees.harness import LIST_ID, UPSERT, Scene, harness_config, record_figure

REASON = "email address is on a global suppression list"
VICTIMS = (7, 500, 1000)  # person numbers; the CSV row of person n is n + 1 (header first)


def victim_address(n: int) -> str:
    return f"guarantee.person{n}@example.com"


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    emails = [victim_address(n) for n in VICTIMS]
    return harness_config(faults=[FaultRule(kind="job_errored", emails=emails, reason=REASON)])


@pytest.fixture
def scene_size() -> int:
    return 1000


@pytest.mark.slow
async def test_three_rejected_of_a_thousand_are_retried_then_reported_with_their_reason(
    scene: Scene,
) -> None:
    s = scene
    victims = {victim_address(n) for n in VICTIMS}
    first = await s.sync()
    assert first.code == 0, first.describe()
    assert "upserted 997" in first.out
    assert "rejected 3" in first.out
    acked_first = s.emulator.state.list_members(LIST_ID)
    assert acked_first == s.segment.expected().keys() - victims

    runs = [first]
    while len(runs) < RETRY_BUDGET + 2:
        runs.append(await s.sync())
    sent = [r.contact_count for r in s.emulator.requests if r.template == UPSERT]
    last = runs[-1]
    result = await s.audit()
    record_figure(
        "D5",
        acked_first_run=len(acked_first),
        upsert_sizes=sent,
        reported_rejections=last.out.count(REASON),
        **result.figures(),
    )
    assert sent == [1000] + [3] * (RETRY_BUDGET - 1)  # retried, then no more
    assert result.retries == 3 * (RETRY_BUDGET - 1)
    assert result.redundant == 0
    assert result.unnecessary == 0  # the 997 were never sent twice
    assert set(result.lost) == victims  # rejected by SendGrid, and said so:
    for run in runs[1:]:
        assert run.code == 0, run.describe()
        assert "rejected 3" in run.out
    for n in VICTIMS:
        assert re.search(rf"main row {n + 1}: {REASON}", last.out), last.out
    status = await s.cli("status", s.name, "--rejections")
    assert status.code == 0, status.describe()
    assert sorted(status.out.splitlines()) == sorted(f"main row {n + 1}: {REASON}" for n in VICTIMS)
