"""Threat 7 (medium): secrets leaked through error texts.

A DSN password with `%` or a space came back inside libpq's message, and from there in
the logs, the status API, `syncd status` and the ledger; a "missing column" error echoed
the source's header line, so a secret file used as a CSV source showed the key in the
unauthenticated status API; only log lines were scrubbed, and only of whole registered
values. A reason quoting the value it refuses would do the same with a secret of
several lines, its header mapped by a pull request. Addresses SendGrid quotes in a
rejection reason must be masked too, except in `syncd status NAME --rejections`, which
asks for them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from syncd.emulator import Emulator, EmulatorConfig, FaultRule, ListSeed
from syncd.logs import email_token
from tests.commands import syncd
from tests.corpus import list_id
from tests.daemon.process import Daemon
from tests.fixtures_emulator import TEST_LIST_ID, strict_emulator_config
from tests.reconciling.world import World, people
from tests.security.common import env_for

PASSWORD = "CANARY pw%zz-9"  # a space, and a `%` that escapes nothing: libpq quotes it back
DSN = f"postgresql://reader:{PASSWORD}@127.0.0.1:1/marts"
# Secrets that happen to lie where sources may be read. Neither is registered with the
# scrubber nor shaped like a SendGrid key: only never echoing source content keeps them in.
TOKEN = "CANARYtoken0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c"
PEM_HEADER = "-----BEGIN PRIVATE KEY-----"
PEM_LINES = [
    f"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC{n:02d}CANARYpem{n:02d}" + "Q" * 20 for n in range(12)
]
FORMS = (PASSWORD, quote(PASSWORD, safe=""), "CANARY", TOKEN, *PEM_LINES, "MIIEv")
VICTIM = "person.3@example.com"
NAMES = ("members", "warehouse", "phones", "token", "pem")


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    reason = f"{VICTIM} is on a suppression list"  # SendGrid quotes the address
    return strict_emulator_config(
        lists=[ListSeed(id=TEST_LIST_ID, name="members")]
        + [ListSeed(id=list_id(name), name=name) for name in NAMES[1:]],
        faults=[FaultRule(kind="job_errored", emails=[VICTIM], reason=reason)],
    )


def ledger_bytes(state: Path) -> bytes:
    """The ledger's files as they lie on disk: the database and its write-ahead log."""
    files = [state.with_name(state.name + suffix) for suffix in ("", "-wal", "-shm")]
    return b"".join(f.read_bytes() for f in files if f.exists())


def destinations(world: World) -> None:
    world.destination({"vip": world.csv("vip", people(0, 6))}, name="members")
    (world.data / "api-token").write_text(TOKEN + "\n")
    (world.data / "service.pem").write_text("\n".join([PEM_HEADER, *PEM_LINES, ""]))
    (world.data / "customers.csv").write_text(
        "Email,Phone\n" + "".join(f"c{n}@example.com,+47 CANARY{n:04d}\n" for n in range(12))
    )
    leaks: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "warehouse": ({"postgres": {"dsn": {"env": "WAREHOUSE_DSN"}, "query": "SELECT 1"}}, {}),
        "phones": (  # their phone numbers mapped to a Number field, to be quoted back
            {"csv": {"path": "../data/customers.csv"}},
            {"email": "Email", "custom_fields": {"orders": "Phone"}},
        ),
        "token": ({"csv": {"path": "../data/api-token"}}, {"email": "Email"}),
        "pem": (  # its header is public knowledge: a pull request can map it
            {"csv": {"path": "../data/service.pem"}},
            {
                "email": PEM_HEADER,
                "first_name": PEM_HEADER,
                "custom_fields": {"orders": PEM_HEADER},
            },
        ),
    }
    for name, (source, mapping) in leaks.items():
        world.destination(
            {"secret": source},
            name=name,
            sendgrid={"apiKey": {"env": "SENDGRID_API_KEY"}, "listId": list_id(name)},
            **({"mapping": mapping} if mapping else {}),
        )


def finished(status: dict[str, Any]) -> bool:
    return status["state"] in ("ready", "stalled", "retrying")


@pytest.mark.slow
async def test_no_form_of_a_dsn_password_no_secret_read_as_a_source_and_no_address_leaves(
    tmp_path: Path, emulator: Emulator
) -> None:
    world = World(tmp_path, emulator)
    world.ledger.close()
    destinations(world)
    env = env_for(world, WAREHOUSE_DSN=DSN, SYNCD_SECRET_ENV="SENDGRID_API_KEY,WAREHOUSE_DSN")
    synced = await syncd("sync", "members", env=env)
    daemon = Daemon(env)
    await daemon.start()
    try:
        answers = [  # the daemon runs the others (`members` is in sync from the CLI)
            await daemon.until(f"/v1/destinations/{name}", finished) for name in NAMES[1:]
        ]
        answers.append((await daemon.get("/v1/destinations"))[1])
        *texts, rejections = await asyncio.gather(
            *(syncd("plan", name, env=env) for name in NAMES[2:]),  # as CI runs it
            syncd("status", env=env),
            syncd("status", "phones", "--rejections", env=env),
            syncd("status", "members", "--rejections", env=env),
        )
    finally:
        assert await daemon.stop() == 0
    state = Path(env["SYNCD_STATE"])

    shown = "\n".join([*(t.text for t in [synced, *texts]), str(answers), daemon.output()])
    on_disk = ledger_bytes(state)
    for form in FORMS:
        assert form not in shown
        assert form.encode() not in on_disk
    assert VICTIM not in shown.lower()
    warehouse, phones, token, pem = answers[:4]
    assert [s["state"] for s in answers[:4]] == ["stalled", "ready", "stalled", "ready"]
    assert "cannot connect" in warehouse["lastRun"]["error"]  # it did fail, with libpq's words
    assert token["lastRun"]["error"] == (
        "csv api-token: column 'Email' not found among the source's 1 column (names must "
        "match exactly); fix spec.mapping or the source"
    )
    assert phones["lastRun"]["counts"]["rejected"] == 12
    assert pem["lastRun"]["counts"]["rejected"] == len(PEM_LINES)
    assert f"{email_token(VICTIM)} is on a suppression list" in synced.out  # masked
    assert f"vip row 5: {VICTIM} is on a suppression list" in rejections.out  # asked for
