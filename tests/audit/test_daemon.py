"""Audits in the daemon: on their schedule, healing by themselves, on /metrics and the
status; asked for over HTTP and by `syncd audit` while the daemon holds the ledger."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from syncd.emulator import Emulator
from tests.audit.conftest import AuditWorld, set_first_name, unlist
from tests.daemon.process import Daemon
from tests.daemon.test_daemon import env_for
from tests.daemon.test_operator_view import cli
from tests.reconciling.world import emails, people

TOKEN = "audit-token"


def drift_metrics(text: str) -> dict[str, float]:
    return {
        m.group(1): float(m.group(2))
        for m in re.finditer(
            r'^syncd_drift_contacts\{destination="members",kind="(\w+)"\} (\S+)$',
            text,
            re.MULTILINE,
        )
    }


@pytest.fixture
def daemon_world(tmp_path: Path, emulator: Emulator) -> AuditWorld:
    built = AuditWorld(tmp_path, emulator)
    built.ledger.close()
    return built


async def test_a_scheduled_audit_heals_hand_edits_and_metrics_show_drift_then_zero(
    daemon_world: AuditWorld,
) -> None:
    w = daemon_world
    w.destination(
        {"vip": w.csv("vip", people(0, 20))},
        schedule={"interval": "1h"},
        audit={"schedule": {"interval": "3s"}, "heal": True},
    )
    daemon = Daemon(env_for(w, SYNCD_AUDIT_SETTLE_WINDOW="0", SYNCD_ADMIN_TOKEN=TOKEN))
    await daemon.start()
    try:
        await daemon.until("/v1/destinations/members", lambda s: s["lastRun"]["outcome"])
        await w.hand_edits(
            unlist("person.1@example.com", "person.2@example.com"),
            set_first_name("Edited", "person.3@example.com"),
        )
        seen: list[dict[str, float]] = []
        async with asyncio.timeout(30):
            while not seen or seen[-1].get("missing") != 2:
                _, text = await daemon.get("/metrics")
                seen.append(drift_metrics(text))
                await asyncio.sleep(0.2)
        assert seen[-1] == {"missing": 2, "extra": 0, "stale": 1, "unacknowledged": 0}
        async with asyncio.timeout(30):
            while seen[-1].get("missing") != 0:
                _, text = await daemon.get("/metrics")
                seen.append(drift_metrics(text))
                await asyncio.sleep(0.2)
        assert seen[-1] == {"missing": 0, "extra": 0, "stale": 0, "unacknowledged": 0}
        assert w.members() == emails(people(0, 20))
        contact = w.emulator.state.contact("person.3@example.com")
        assert contact is not None
        assert contact["first_name"] == "First3"
        _, status = await daemon.get("/v1/destinations/members")
        assert status["drift"]["missing"] == 0
        assert any(c["type"] == "Drifted" and c["status"] == "False" for c in status["conditions"])
        _, text = await daemon.get("/metrics")
        assert re.search(
            r'syncd_audit_runs_total\{destination="members",outcome="success"\} [2-9]', text
        )
    finally:
        assert await daemon.stop() == 0, daemon.output()


async def test_audits_asked_of_the_daemon_follow_the_token_rules(daemon_world: AuditWorld) -> None:
    w = daemon_world
    w.destination({"vip": w.csv("vip", people(0, 5))}, schedule={"interval": "1h"})
    daemon = Daemon(env_for(w, SYNCD_AUDIT_SETTLE_WINDOW="0", SYNCD_ADMIN_TOKEN=TOKEN))
    await daemon.start()
    try:
        await daemon.until("/v1/destinations/members", lambda s: s["lastRun"]["outcome"])
        status, _ = await daemon.post("/v1/destinations/members/audit")
        assert status == 401
        status, _ = await daemon.post("/v1/destinations/members/audit?heal=true")
        assert status == 401
        status, _ = await daemon.post("/v1/destinations/nobody/audit", token=TOKEN)
        assert status == 404
        await w.hand_edits(unlist("person.1@example.com"))
        status, report = await daemon.post("/v1/destinations/members/audit", token=TOKEN)
        assert status == 200
        assert report["drift"]["missing"] == 1
        assert report["examples"]["missing"] == ["person.1@example.com"]

        code, out, err = await cli(daemon, "audit", "members", "--heal")
        assert code == 2, out + err
        assert "asking it to audit" in err
        assert "1 sent again" in out
        code, out, err = await cli(daemon, "audit", "members")
        assert code == 0, out + err
    finally:
        assert await daemon.stop() == 0, daemon.output()


async def test_an_audit_answered_without_the_token_is_scrubbed_as_every_answer_is(
    daemon_world: AuditWorld,
) -> None:
    # The audit's answer was the one JSON answer not scrubbed: an error quoting an address
    # (here the segment's file name) came back whole to a caller without the token.
    w = daemon_world
    w.csv("ann@example.com", people(0, 5))
    source = {"csv": {"path": "../data/ann@example.com.csv"}}
    w.destination({"vip": source}, schedule={"interval": "1h"})
    daemon = Daemon(env_for(w, SYNCD_AUDIT_SETTLE_WINDOW="0"))
    await daemon.start()
    try:
        await daemon.until("/v1/destinations/members", lambda s: s["lastRun"]["outcome"])
        (w.data / "ann@example.com.csv").unlink()
        status, report = await daemon.post("/v1/destinations/members/audit")
    finally:
        assert await daemon.stop() == 0, daemon.output()
    assert status == 200
    assert report["error"], report
    assert "ann@example.com" not in report["error"], report["error"]
