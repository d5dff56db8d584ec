"""Threat 4 (high): one row could stop a destination for good.

A Number value of 2^64 or more raised outside the per-row error handling: the run ended
"unexpected", sent nothing, and was retried for ever. Now every conversion happens
inside the per-row handling: that row is refused with its reason, the rest lands.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncd.emulator import Emulator
from tests.commands import syncd
from tests.reconciling.world import World, emails, people
from tests.security.common import env_for

HUGE = 2**64


def orders(emulator: Emulator, email: str) -> object:
    """The `orders` value SendGrid stored for `email` (custom field `e2_N`)."""
    stored = emulator.state.contact(email)
    assert stored is not None
    custom = stored["custom_fields"]
    assert isinstance(custom, dict)
    return custom.get("e2_N")


@pytest.mark.slow
async def test_a_number_of_2_to_the_64_refuses_its_row_and_the_rest_lands(
    tmp_path: Path, emulator: Emulator
) -> None:
    world = World(tmp_path, emulator)
    world.ledger.close()
    in_csv = people(0, 5, tier="7")
    in_csv[2]["Tier"] = str(HUGE)  # text in a CSV file, on its line 4
    in_jsonl = people(5, 5, tier="7")
    (world.data / "more.jsonl").write_text(
        "".join(
            json.dumps({**row, "Tier": HUGE if n == 1 else 7}) + "\n"  # a JSON number
            for n, row in enumerate(in_jsonl)
        )
    )
    world.destination(
        {"vip": world.csv("vip", in_csv), "more": {"jsonl": {"path": "../data/more.jsonl"}}},
        mapping={"email": "EmailAddress", "custom_fields": {"orders": "Tier"}},
    )
    env = env_for(world)

    synced = await syncd("sync", "members", env=env)

    beyond = (
        "custom field orders (Number): the value is beyond ±2^53 (9,007,199,254,740,992), "
        "the largest integer a double holds exactly: SendGrid could not store it as written"
    )
    assert synced.code == 0, synced.describe()
    assert "Traceback" not in synced.text
    assert str(HUGE) not in synced.text  # source values are never quoted
    listed = sorted(line.strip() for line in synced.out.splitlines() if " row " in line)
    assert listed == [f"more row 2: {beyond}", f"vip row 4: {beyond}"]
    landed = emails([*in_csv[:2], *in_csv[3:], in_jsonl[0], *in_jsonl[2:]])
    assert world.members() == landed
    assert {orders(emulator, email) for email in landed} == {7}
