"""Threat 7 (medium): secrets leaked through error texts.

A DSN password with `%` or a space came back inside libpq's message, and from there in
the logs, the status API, `syncd status` and the ledger; only log lines were scrubbed,
and only of whole registered values. Addresses SendGrid quotes in a rejection reason
must be masked too, except in `syncd status NAME --rejections`, which asks for them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

import pytest

from syncd.emulator import Emulator, EmulatorConfig, FaultRule
from syncd.logs import email_token
from tests.daemon.process import Daemon
from tests.fixtures_emulator import default_emulator_config
from tests.reconciling.world import World, people
from tests.security.common import env_for, syncd

PASSWORD = "CANARY pw%zz-9"  # a space, and a `%` that escapes nothing: libpq quotes it back
DSN = f"postgresql://reader:{PASSWORD}@127.0.0.1:1/marts"
FORMS = (PASSWORD, quote(PASSWORD, safe=""), "CANARY")
VICTIM = "person.3@example.com"


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    reason = f"{VICTIM} is on a suppression list"  # SendGrid quotes the address
    return default_emulator_config(
        faults=[FaultRule(kind="job_errored", emails=[VICTIM], reason=reason)]
    )


def ledger_text(state: Path) -> str:
    with sqlite3.connect(state) as db:
        rows = db.execute("SELECT error FROM runs UNION ALL SELECT reason FROM rejections")
        text = "\n".join(str(value) for (value,) in rows)
    db.close()
    return text


async def test_no_form_of_a_dsn_password_and_no_quoted_address_leaves_the_process(
    tmp_path: Path, emulator: Emulator
) -> None:
    world = World(tmp_path, emulator)
    world.ledger.close()
    warehouse = {"postgres": {"dsn": {"env": "WAREHOUSE_DSN"}, "query": "SELECT 1"}}
    world.destination(
        {"warehouse": warehouse},
        name="warehouse",
        sendgrid={
            "apiKey": {"env": "SENDGRID_API_KEY"},
            "listId": "33333333-3333-4333-8333-333333333333",
        },
    )
    world.destination({"vip": world.csv("vip", people(0, 6))}, name="members")
    env = env_for(world, WAREHOUSE_DSN=DSN, SYNCD_SECRET_ENV="SENDGRID_API_KEY,WAREHOUSE_DSN")
    texts = [
        await syncd("sync", "warehouse", env=env),
        await syncd("sync", "members", env=env),
        await syncd("status", env=env),
        await syncd("status", "warehouse", env=env),
        await syncd("status", "warehouse", "--json", env=env),
    ]
    rejections = await syncd("status", "members", "--rejections", env=env)
    daemon = Daemon(env)
    await daemon.start()
    try:
        status = await daemon.until(
            "/v1/destinations/warehouse", lambda s: s["lastRun"] and s["lastRun"]["outcome"]
        )
        _, everything = await daemon.get("/v1/destinations")
    finally:
        assert await daemon.stop() == 0
    state = Path(env["SYNCD_STATE"])

    assert "cannot connect" in texts[0].text  # it did fail, with libpq's words
    assert "cannot connect" in status["lastRun"]["error"]
    shown = "\n".join([*(t.text for t in texts), str(status), str(everything), daemon.output()])
    for form in FORMS:
        assert form not in shown
        assert form not in ledger_text(state)
    assert VICTIM not in shown.lower()
    assert f"{email_token(VICTIM)} is on a suppression list" in texts[1].out  # masked
    assert f"vip row 5: {VICTIM} is on a suppression list" in rejections.out  # asked for
