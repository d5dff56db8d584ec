"""S1: canary secrets and the segment's addresses never reach a log line, a metric scrape,
a status response or an error message.

Canaries: the API key (from a file for one destination, from the environment for
another), a wrong key SendGrid refuses (401), a PostgreSQL DSN password (in the
environment and in a file, for sources on an unreachable server, and in `SYNCD_STATE`
for the shared ledger), the admin token, and every address of the segment (valid or
not). The key also sits inline in a refused destination file, and a destination file is
a symlink to `/proc/self/environ`, which holds them all. syncd then runs as a user runs
it, at debug level, with failures that produce error messages: `validate`, `plan`,
`sync`, `status` (text and JSON), `run --once`, and `run` with its HTTP endpoints.
Required (docs/guarantees.md, row S1): 0 occurrences.

Every other scene of this suite is checked the same way for its key and addresses when
its test ends (tests/guarantees/conftest.py).
"""

from __future__ import annotations

import pytest
import yaml

from syncd.emulator import EmulatorConfig, FaultRule
from tests.guarantees.harness import (
    API_KEY,
    DSN_PASSWORD,
    Completed,
    Scene,
    SyncdProcess,
    harness_config,
    record_figure,
)

WRONG_KEY = "SG.CANARYwrong-key-000000.CANARYwrongsecret0123456789abcdefghijklmnopq"
ADMIN_TOKEN = "CANARYTOKEN-5b1f0e7d"
DSN = f"postgresql://syncd:{DSN_PASSWORD}@127.0.0.1:1/segments"
INVALID = ("Canary.NoDomain@Example", "canary no at sign", 'Canary.Quoted"x"@Example.com')


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    victims = ["guarantee.person3@example.com", "guarantee.person4@example.com"]
    return harness_config(faults=[FaultRule(kind="job_errored", emails=victims, reason="bounced")])


@pytest.fixture
def scene_size() -> int:
    return 40


def add_destination(scene: Scene, name: str, *, list_id: str, **spec: object) -> None:
    document = scene.destination_document(**spec)
    document["metadata"]["name"] = name
    document["spec"]["sendgrid"]["listId"] = list_id
    (scene.destinations / f"{name}.yaml").write_text(yaml.safe_dump(document))


def postgres(dsn: dict[str, str]) -> list[dict[str, object]]:
    return [{"name": "db", "source": {"postgres": {"dsn": dsn, "query": "SELECT 1"}}}]


@pytest.mark.slow
async def test_no_secret_and_no_address_appears_in_anything_syncd_says(scene: Scene) -> None:
    s = scene
    s.canaries |= {WRONG_KEY, WRONG_KEY.split(".", 2)[2], ADMIN_TOKEN}
    s.segment.extra_rows = [{"Email": e, "FirstName": "Bad"} for e in INVALID]
    s.segment.ever.update(INVALID)
    s.segment.write()
    (s.secrets / "dsn").write_text(DSN + "\n")
    other_list = "22222222-2222-4222-8222-222222222222"
    add_destination(
        s,
        "by-env",
        list_id="33333333-3333-4333-8333-333333333333",
        sendgrid={"apiKey": {"env": "SENDGRID_API_KEY"}, "listId": other_list},
    )
    add_destination(
        s,
        "wrong-key",
        list_id=other_list,
        sendgrid={"apiKey": {"env": "WRONG_KEY"}, "listId": "44444444-4444-4444-8444-444444444444"},
    )
    add_destination(
        s,
        "pg-env",
        list_id="55555555-5555-4555-8555-555555555555",
        segments=postgres({"env": "PG_DSN"}),
    )
    add_destination(
        s,
        "pg-file",
        list_id="66666666-6666-4666-8666-666666666666",
        segments=postgres({"file": "../secrets/dsn"}),
    )
    inline = s.destination_document()
    inline["metadata"]["name"] = "inline"
    inline["spec"]["sendgrid"]["apiKey"] = API_KEY
    (s.destinations / "inline.yaml").write_text(yaml.safe_dump(inline))
    (s.destinations / "environ.yaml").symlink_to("/proc/self/environ")

    secrets = {
        "SENDGRID_API_KEY": API_KEY,
        "WRONG_KEY": WRONG_KEY,
        "PG_DSN": DSN,
        "SYNCD_ADMIN_TOKEN": ADMIN_TOKEN,
        "SYNCD_LOG_LEVEL": "debug",
        # The operator allows the variables these destinations name.
        "SYNCD_SECRET_ENV": "SENDGRID_API_KEY,WRONG_KEY,PG_DSN",
    }
    env = s.env(**secrets)
    runs: list[Completed] = []
    for args in (
        ("validate",),
        ("validate", "/proc/self/environ"),
        ("validate", str(s.destinations / "inline.yaml")),
        ("plan", "members"),
        ("sync", "members"),
        ("sync", "by-env"),
        ("sync", "wrong-key"),
        ("sync", "pg-env"),
        ("sync", "pg-file"),
        ("status",),
        ("status", "--json"),
        ("status", "members", "--rejections"),
        ("status", "members", "--json"),
        ("status", "wrong-key"),
        ("status", "pg-env", "--json"),
        ("run", "--once"),
    ):
        runs.append(await s.cli(*args, env=env))
    runs.append(await s.cli("status", env={**env, "SYNCD_STATE": DSN}))
    runs.append(await s.cli("sync", "members", env={**env, "SYNCD_STATE": DSN}))

    daemon = SyncdProcess(s, env, ("run",))
    await daemon.start()
    await daemon.until(
        "/v1/destinations",
        lambda b: all((d["lastRun"] or {}).get("outcome") for d in b["destinations"]),
    )
    for path in ("/metrics", "/v1/destinations", "/healthz", "/readyz"):
        await daemon.get(path)
    for name in ("members", "by-env", "wrong-key", "pg-env", "pg-file", "inline", "nobody"):
        await daemon.get(f"/v1/destinations/{name}")
    code, _ = await daemon.post("/v1/destinations/wrong-key/sync")
    assert code == 401  # the token is required, and was not given
    through = await s.cli("sync", "members", env=daemon.env)  # the daemon runs it
    assert through.code == 0, through.describe()
    assert await daemon.stop() == 0

    by_args: dict[tuple[str, ...], Completed] = {}
    for run in runs:
        by_args.setdefault(run.args, run)
    # The failures really happened, with messages that say what to fix:
    assert "env WRONG_KEY is wrong, expired or revoked" in by_args[("sync", "wrong-key")].out
    assert "postgres segment db: cannot connect" in by_args[("sync", "pg-env")].out
    assert "postgres segment db: cannot connect" in by_args[("sync", "pg-file")].out
    assert "inline secrets are refused" in by_args[("validate",)].out
    assert "environ.yaml: symlink points outside" in by_args[("validate",)].out
    assert by_args[("validate", "/proc/self/environ")].code == 1
    assert "bounced" in by_args[("status", "members", "--rejections")].out
    assert "email is not a valid address" in by_args[("sync", "members")].out

    leaks = s.leaks()
    texts = len(s.texts) + len(s.logs)
    record_figure(
        "S1",
        commands=len(runs) + 2,
        texts_checked=texts,
        characters_checked=sum(len(t) for t in s.texts)
        + sum(p.stat().st_size for p in s.logs if p.exists()),
        canaries=len(s.canaries) + len(s.segment.ever),
        occurrences=len(leaks),
    )
    assert leaks == []
