"""`syncd forget` as an operator runs it: real processes, the strict emulator over HTTP, the
ledger file read from outside."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from syncd.emulator import Emulator
from syncd.failpoints import EXIT_CODE
from syncd.ledger import open_ledger
from syncd.logs import email_token
from tests.daemon.process import Daemon
from tests.fixtures_emulator import TEST_API_KEY
from tests.reconciling.world import World, emails, people

WRITTEN = "Person.2@Example.com"  # as the segment and the operator write it
ADDRESS = "person.2@example.com"
DELETE = "DELETE /v3/marketing/contacts"


class Syncd:
    """The CLI and the daemon of one world, with every log line they wrote kept."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.state = world.root / "state.db"
        self.logs: list[str] = []
        self.env = {
            **os.environ,
            "SENDGRID_API_KEY": TEST_API_KEY,
            "SYNCD_SENDGRID_BASE_URL": world.emulator.url,
            "SYNCD_DESTINATIONS": str(world.destinations),
            "SYNCD_STATE": str(self.state),
            "SYNCD_LOG_FORMAT": "json",
            "SYNCD_JOB_POLL_MAX_INTERVAL": "0.2",
            "SYNCD_RESCAN_INTERVAL": "1",
        }

    async def __call__(self, *args: str, **env: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "syncd",
            *args,
            env={**self.env, **env},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode is not None
        self.logs.append(err.decode())
        return process.returncode, out.decode()

    @property
    def last_log(self) -> str:
        return self.logs[-1]

    def daemon(self, **env: str) -> Daemon:
        return Daemon({**self.env, **env})

    def ledger(self) -> tuple[set[str], list[str], list[str]]:
        """Read from outside: the acknowledged addresses, the pending erasures' addresses,
        and the open batches (kind and state)."""
        ledger = open_ledger(str(self.state), writer=False)
        try:
            with ledger.session("members") as s:
                acked = set(s.gone("", 1000))  # no snapshot in this session: every one
                erasures = [e.email for e in s.erasures()]
                batches = [f"{b.kind} {b.state}" for b in s.open_batches()]
        finally:
            ledger.close()
        return acked, erasures, batches

    def acked(self) -> set[str]:
        """The acknowledged addresses, with nothing left open."""
        acked, erasures, batches = self.ledger()
        assert (erasures, batches) == ([], []), "an erasure or a batch is still open"
        return acked

    def assert_no_log_line_carries_the_address(self, *more: str) -> None:
        """Neither the address nor the scrubber's token for it: no line was about it."""
        logs = "\n".join([*self.logs, *more]).lower()
        assert ADDRESS not in logs
        assert email_token(ADDRESS) not in logs


@pytest.fixture
async def syncd(tmp_path: Path, emulator: Emulator) -> Syncd:
    world = World(tmp_path, emulator)
    world.ledger.close()
    world.destination({"vip": world.csv("vip", people(0, 10))})
    return Syncd(world)


@pytest.mark.slow
async def test_a_forgotten_address_is_gone_from_the_ledger_and_sendgrid_and_never_sent_again(
    syncd: Syncd,
) -> None:
    w = syncd.world
    code, out = await syncd("sync", "members")
    assert code == 0, out + syncd.last_log
    assert ADDRESS in syncd.acked()

    code, out = await syncd("forget", WRITTEN, "--delete-in-sendgrid")

    assert code == 0, out + syncd.last_log
    assert f"forget: {ADDRESS}" in out  # shown to the operator who asked, nowhere else
    assert "members: removed 1 acknowledged contact" in out
    assert "SendGrid (members's account): deleted" in out
    assert ADDRESS not in syncd.acked()
    assert w.emulator.state.contact(ADDRESS) is None
    assert WRITTEN in (w.data / "vip.csv").read_text()  # still in the segment
    code, out = await syncd("sync", "members")
    assert code == 0, out + syncd.last_log
    assert "forgotten 1" in out
    assert w.emulator.state.contact(ADDRESS) is None
    assert w.members() == emails(people(0, 10)) - {ADDRESS}
    code, out = await syncd("status", "members")
    assert "forgotten 1" in out
    syncd.assert_no_log_line_carries_the_address()


@pytest.mark.slow
async def test_undo_lets_the_next_sync_send_it_again(syncd: Syncd) -> None:
    w = syncd.world
    await syncd("sync", "members")
    code, out = await syncd("forget", WRITTEN)
    assert code == 0, out + syncd.last_log
    assert (await syncd("sync", "members"))[0] == 0

    code, out = await syncd("forget", "--undo", WRITTEN)

    assert code == 0, out + syncd.last_log
    assert "forgotten no more for every destination" in out
    code, out = await syncd("sync", "members")
    assert code == 0, out + syncd.last_log
    assert "forgotten" not in out
    assert ADDRESS in syncd.acked()
    assert ADDRESS in w.members()
    syncd.assert_no_log_line_carries_the_address()


async def test_a_running_daemon_carries_the_request_out_between_runs(syncd: Syncd) -> None:
    w = syncd.world
    daemon = syncd.daemon()  # loopback, no SYNCD_ADMIN_TOKEN: the CLI uses the host token
    await daemon.start()
    try:
        await daemon.until("/v1/destinations/members", lambda s: s["lastRun"]["outcome"])
        code, _ = await daemon.post("/v1/forget")
        assert code == 403  # a token in every configuration, even on loopback

        listen = daemon.env["SYNCD_LISTEN"]
        code, out = await syncd("forget", WRITTEN, "--delete-in-sendgrid", SYNCD_LISTEN=listen)

        assert code == 0, out + syncd.last_log
        assert "asking it" in out
        assert "members: removed 1 acknowledged contact" in out
        assert w.emulator.state.contact(ADDRESS) is None
        code, body = await daemon.post("/v1/destinations/members/sync")
        assert code == 202
        status = await daemon.until(
            "/v1/destinations/members", lambda s: s["lastHandledRequest"] >= body["request"]
        )
        assert status["lastRun"]["counts"]["forgotten"] == 1
        assert w.emulator.state.contact(ADDRESS) is None
    finally:
        assert await daemon.stop() == 0, daemon.output()
    assert ADDRESS not in syncd.acked()
    syncd.assert_no_log_line_carries_the_address(daemon.output())


@pytest.mark.slow
@pytest.mark.parametrize("failpoint", ["after-outbox-commit", "after-job-commit"])
async def test_a_crash_in_the_middle_of_the_deletion_is_finished_by_the_next_start(
    syncd: Syncd, failpoint: str
) -> None:
    w = syncd.world
    await syncd("sync", "members")

    code, out = await syncd(
        "forget", WRITTEN, "--delete-in-sendgrid", SYNCD_FAILPOINTS=f"{failpoint}=exit"
    )

    assert code == EXIT_CODE, out + syncd.last_log
    state = "prepared" if failpoint == "after-outbox-commit" else "submitted"
    assert syncd.ledger() == (emails(people(0, 10)) - {ADDRESS}, [ADDRESS], [f"delete {state}"])
    deletes = w.emulator.count_requests(template=DELETE)
    daemon = syncd.daemon()
    await daemon.start()
    try:
        # It runs at once (open work in the ledger), not on its hourly schedule.
        await daemon.until("/v1/destinations/members", lambda s: s["state"] == "ready")
    finally:
        assert await daemon.stop() == 0, daemon.output()
    assert w.emulator.state.contact(ADDRESS) is None
    sent_again = w.emulator.count_requests(template=DELETE) - deletes
    assert sent_again == (1 if failpoint == "after-outbox-commit" else 0)  # a job id is polled
    assert ADDRESS not in syncd.acked()  # and nothing pending: erasure confirmed, batch closed
    syncd.assert_no_log_line_carries_the_address(daemon.output())
