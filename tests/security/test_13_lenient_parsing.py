"""Threat 13 (low): lenient parsing sent SendGrid what the source did not say.

`1_000` and Arabic-Indic digits were taken as numbers; the Kelvin sign in an address was
lower-cased to `k` (another person's address); duplicate CSV columns or JSON keys
silently let the last one win; NUL and terminal escape sequences went to SendGrid in
names. Bidirectional overrides (a name that shows as another) and line separators are
refused the same way. Every such row is refused with its reason; nothing of it is sent.
The value rules are unit-tested in tests/contacts/ (test_custom_values.py,
test_addresses.py, test_control_characters.py) and the corpus's `typed-values`,
`unsafe-text`, `duplicate-columns` and `duplicate-keys` sources.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from syncd.emulator import Emulator
from tests.commands import syncd
from tests.corpus import list_id
from tests.reconciling.world import World
from tests.security.common import env_for

NOT_A_NUMBER = (
    "custom field orders (Number): the value is not a number; write ASCII digits with an "
    "optional sign, decimal point and exponent (e.g. -12, 4.5, 1e3)"
)
NOT_SENT = "syncd does not send control characters: remove it from the source"
ROWS = [  # (email, first name, orders), from line 2 of the file
    ("lenient.1@example.com", "Ann", "3"),
    ("lenient.2@example.com", "Bob", "1_000"),
    ("lenient.3@example.com", "Cid", "\u0661\u0662\u0663"),  # Arabic-Indic 123
    ("lenient.4@example.com", "Dee", "\uff11\uff12\uff13"),  # fullwidth 123
    ("\u212aate.lenient@example.com", "Kate", ""),  # KELVIN SIGN, not K
    ("lenient.6@example.com", "Nul\x00Byte", ""),
    ("lenient.7@example.com", "\x1b[31mRed", ""),
    ("lenient.8@example.com", "\u202enaJ", ""),  # shows as "Jan"
    ("lenient.9@example.com", "Ann\u2028Lee", ""),
    ("lenient.10@example.com", "Jan", "7"),
]
REFUSED = [
    ("csv", 3, NOT_A_NUMBER),
    ("csv", 4, NOT_A_NUMBER),
    ("csv", 5, NOT_A_NUMBER),
    (
        "csv",
        6,
        "email is not a valid address: U+212A would become an ASCII letter when lower-cased, "
        "which makes it another address",
    ),
    ("csv", 7, f"first_name contains a control character U+0000; {NOT_SENT}"),
    ("csv", 8, f"first_name contains a control character U+001B; {NOT_SENT}"),
    ("csv", 9, f"first_name contains a control character U+202E; {NOT_SENT}"),
    ("csv", 10, f"first_name contains a control character U+2028; {NOT_SENT}"),
    ("jsonl", 1, "email holds more than one value (a list, an object, or its key written twice)"),
]


async def test_values_a_lenient_parser_would_take_are_refused_row_by_row_and_never_sent(
    tmp_path: Path, emulator: Emulator
) -> None:
    world = World(tmp_path, emulator)
    world.ledger.close()
    with (world.data / "people.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("Email", "FirstName", "Orders"), *ROWS])
    (world.data / "more.jsonl").write_text(
        '{"Email": "lenient.11@example.com", "Email": "someone.else@example.com"}\n'
        + json.dumps({"Email": "lenient.12@example.com", "FirstName": "Liv", "Orders": 1})
        + "\n"
    )
    (world.data / "twice.csv").write_text("Email,FirstName,Email\nlenient.13@example.com,Max,x\n")
    world.destination(
        {
            "csv": {"csv": {"path": "../data/people.csv"}},
            "jsonl": {"jsonl": {"path": "../data/more.jsonl"}},
        },
        mapping={
            "email": "Email",
            "first_name": "FirstName",
            "custom_fields": {"orders": "Orders"},
        },
    )
    world.destination(
        {"twice": {"csv": {"path": "../data/twice.csv"}}},
        name="twice",
        sendgrid={"apiKey": {"env": "SENDGRID_API_KEY"}, "listId": list_id("twice")},
        mapping={"email": "Email"},
    )
    env = env_for(world)

    synced = await syncd("sync", "members", env=env)
    twice = await syncd("sync", "twice", env=env)

    assert synced.code == 0, synced.describe()
    listed = sorted(line.strip() for line in synced.out.splitlines() if " row " in line)
    assert listed == sorted(f"{segment} row {row}: {reason}" for segment, row, reason in REFUSED)
    sent = {"lenient.1@example.com", "lenient.10@example.com", "lenient.12@example.com"}
    assert set(emulator.state.contacts) == sent  # nothing else reached SendGrid
    assert twice.code == 1, twice.describe()
    assert (
        "csv twice.csv: column 'Email' appears 2 times (columns 1 and 3); which one is meant "
        "is ambiguous"
    ) in twice.out
