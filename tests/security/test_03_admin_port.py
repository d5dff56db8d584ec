"""Threat 3 (high): anyone who reached port 9108 could lift the removal guard.

The image listened on 0.0.0.0, the token's Secret was optional, the NetworkPolicy let
any pod in; an anonymous `POST .../sync?allowRemovals=true` removed 40 of 50 contacts
the guard had held back.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from syncd.emulator import Emulator
from tests.commands import syncd
from tests.daemon.process import Daemon, free_port
from tests.reconciling.world import World, emails, people
from tests.security.common import env_for

TOKEN = "CANARY-admin-token-7a1c"


async def post(daemon: Daemon, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(daemon.url + path, headers=headers or {}) as reply,
    ):
        return reply.status, await reply.text()


async def shrunk_and_blocked(world: World, daemon: Daemon, token: str | None = None) -> None:
    """50 contacts in SendGrid; the segment shrinks to 10; the guard holds the 40 back."""
    await daemon.until("/v1/destinations/members", lambda s: s["lastRun"]["outcome"] == "success")
    assert len(world.members()) == 50
    world.csv("vip", people(0, 10))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    code, _ = await post(daemon, "/v1/destinations/members/sync", headers)
    assert code == 202
    await daemon.until("/v1/destinations/members", lambda s: s["lastRun"]["outcome"] == "guard")


@pytest.mark.slow
async def test_an_anonymous_request_cannot_lift_the_guard_even_on_loopback(
    tmp_path: Path, emulator: Emulator
) -> None:
    world = World(tmp_path, emulator)
    world.ledger.close()
    world.destination({"vip": world.csv("vip", people(0, 50))}, name="members")
    daemon = Daemon(env_for(world))
    await daemon.start()
    try:
        await shrunk_and_blocked(world, daemon)
        anonymous = await post(daemon, "/v1/destinations/members/sync?allowRemovals=true")
        guessed = await post(
            daemon,
            "/v1/destinations/members/sync?allowRemovals=true",
            {"Authorization": "Bearer guess"},
        )
        assert len(world.members()) == 50  # nothing removed
        # On the daemon's own host its owner can: the CLI reads the host token.
        confirmed = await syncd("sync", "members", "--allow-removals", env=daemon.env)
    finally:
        assert await daemon.stop() == 0, daemon.output()

    for code, body in (anonymous, guessed):
        assert code == 403
        assert "allowRemovals=true needs a valid token: set SYNCD_ADMIN_TOKEN" in body
        assert "syncd sync NAME --allow-removals" in body
    assert confirmed.code == 0, confirmed.describe()
    assert world.members() == emails(people(0, 10))
    assert not (tmp_path / "daemon-state.db.admin-token").exists()  # removed at stop


@pytest.mark.slow
async def test_with_a_token_only_its_holder_can_lift_the_guard(
    tmp_path: Path, emulator: Emulator
) -> None:
    world = World(tmp_path, emulator)
    world.ledger.close()
    world.destination({"vip": world.csv("vip", people(0, 50))}, name="members")
    daemon = Daemon(env_for(world, SYNCD_ADMIN_TOKEN=TOKEN))
    await daemon.start()
    try:
        await shrunk_and_blocked(world, daemon, TOKEN)
        path = "/v1/destinations/members/sync?allowRemovals=true"
        refused = [
            await post(daemon, path),
            await post(daemon, path, {"Authorization": "Bearer wrong"}),
            await post(daemon, path, {"Authorization": TOKEN}),  # no `Bearer `
            await post(daemon, "/v1/destinations/members/sync"),  # any change needs it
        ]
        assert len(world.members()) == 50
        accepted = await post(daemon, path, {"Authorization": f"Bearer {TOKEN}"})
        await daemon.until(
            "/v1/destinations/members", lambda s: s["lastRun"]["outcome"] == "success"
        )
    finally:
        assert await daemon.stop() == 0, daemon.output()

    assert [code for code, _ in refused] == [401, 401, 401, 401]
    assert accepted[0] == 202
    assert world.members() == emails(people(0, 10))


async def test_the_daemon_refuses_to_listen_beyond_loopback_without_a_token(
    tmp_path: Path, emulator: Emulator
) -> None:
    world = World(tmp_path, emulator)
    world.ledger.close()
    world.destination({"vip": world.csv("vip", people(0, 5))}, name="members")

    listen = f"0.0.0.0:{free_port()}"
    done = await syncd("run", env=env_for(world, SYNCD_LISTEN=listen))

    assert done.code == 2
    assert done.out == ""
    assert done.err.splitlines() == [
        f"syncd run: SYNCD_LISTEN: {listen} listens beyond loopback without SYNCD_ADMIN_TOKEN; "
        "set the token, or listen on 127.0.0.1 and serve metrics and health to others with "
        "SYNCD_METRICS_LISTEN"
    ]
    assert world.emulator.requests == []
