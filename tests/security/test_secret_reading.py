"""Reading a secret never waits and never leaves the allowlists, whatever the path holds now."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from pathlib import Path

import pytest

from syncd.allowlists import Allowlists
from syncd.credentials import (
    MAX_SECRET_BYTES,
    SecretMissing,
    SecretNotAllowed,
    fetch_secret,
    read_secret,
)
from syncd.destinations import SecretRef, Segment
from syncd.errors import SourceInvalid
from syncd.sources import open_segment

WHAT = "spec.sendgrid.apiKey"


def policy(tmp_path: Path) -> Allowlists:
    return Allowlists(
        sendgrid_base_urls=("https://api.sendgrid.com",),
        secret_env=("SENDGRID_API_KEY", "SENDGRID_API_KEY_*"),
        secret_dirs=(tmp_path / "secrets",),
        source_dirs=(tmp_path / "data",),
    )


def file_ref(path: str) -> SecretRef:
    return SecretRef.model_validate({"file": path})


@pytest.fixture
def secrets(tmp_path: Path) -> Path:
    directory = tmp_path / "secrets"
    directory.mkdir()
    return directory


def read(tmp_path: Path, written: str) -> str:
    return read_secret(
        file_ref(written),
        base_dir=tmp_path / "destinations.d",
        what=WHAT,
        allowlists=policy(tmp_path),
    )


def test_a_key_file_in_an_allowed_directory_is_read_and_stripped(
    tmp_path: Path, secrets: Path
) -> None:
    (secrets / "api-key").write_text("SG.a-key.read-from-a-file\n")

    assert read(tmp_path, "../secrets/api-key") == "SG.a-key.read-from-a-file"


def test_a_fifo_is_refused_at_once_without_waiting_for_a_writer(
    tmp_path: Path, secrets: Path
) -> None:
    os.mkfifo(secrets / "api-key")
    started = time.monotonic()

    with pytest.raises(SecretMissing, match=r"is not a regular file .*; refused"):
        read(tmp_path, "../secrets/api-key")
    assert time.monotonic() - started < 1


def test_a_socket_and_a_device_are_refused(tmp_path: Path, secrets: Path) -> None:
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(secrets / "socket"))
        with pytest.raises(SecretMissing, match="cannot read secret file"):
            read(tmp_path, "../secrets/socket")
    (secrets / "zero").symlink_to("/dev/zero")
    with pytest.raises(SecretNotAllowed, match=r"resolves to /dev/zero, which is outside"):
        read(tmp_path, "../secrets/zero")
    with pytest.raises(SecretMissing, match="not a regular file"):
        read_secret(
            file_ref("/dev/zero"),
            base_dir=tmp_path,
            what=WHAT,
            allowlists=Allowlists((), (), (Path("/dev"),), ()),
        )


def test_a_file_over_64_kib_is_refused(tmp_path: Path, secrets: Path) -> None:
    (secrets / "api-key").write_bytes(b"k" * (MAX_SECRET_BYTES + 1))

    with pytest.raises(SecretMissing, match="larger than 64 KiB"):
        read(tmp_path, "../secrets/api-key")


def test_a_link_swapped_in_after_loading_cannot_lead_out(tmp_path: Path, secrets: Path) -> None:
    (tmp_path / "warehouse-dsn").write_text("postgresql://u:pw@db/x\n")
    (secrets / "api-key").symlink_to(tmp_path / "warehouse-dsn")

    with pytest.raises(SecretNotAllowed, match=r"outside the allowed secret directories"):
        read(tmp_path, "../secrets/api-key")


def test_an_environment_variable_outside_the_allowlist_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAREHOUSE_DSN", "postgresql://u:pw@db/x")
    monkeypatch.setenv("SENDGRID_API_KEY_EU", "SG.eu-key.value")
    refs = {name: SecretRef.model_validate({"env": name}) for name in ("WAREHOUSE_DSN",)}

    with pytest.raises(SecretNotAllowed, match=r"WAREHOUSE_DSN is not an allowed"):
        read_secret(
            refs["WAREHOUSE_DSN"], base_dir=tmp_path, what=WHAT, allowlists=policy(tmp_path)
        )
    eu = SecretRef.model_validate({"env": "SENDGRID_API_KEY_EU"})
    assert read_secret(eu, base_dir=tmp_path, what=WHAT, allowlists=policy(tmp_path)) == (
        "SG.eu-key.value"
    )


async def test_fetching_a_secret_leaves_the_event_loop_free(tmp_path: Path, secrets: Path) -> None:
    (secrets / "api-key").write_text("SG.a-key.read-off-the-loop\n")
    os.mkfifo(secrets / "fifo")
    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(ticking())
    try:
        key = await fetch_secret(
            file_ref("../secrets/api-key"),
            base_dir=tmp_path / "destinations.d",
            what=WHAT,
            allowlists=policy(tmp_path),
        )
        with pytest.raises(SecretMissing, match="not a regular file"):
            await fetch_secret(
                file_ref("../secrets/fifo"),
                base_dir=tmp_path / "destinations.d",
                what=WHAT,
                allowlists=policy(tmp_path),
            )
    finally:
        ticker.cancel()
    assert key == "SG.a-key.read-off-the-loop"
    assert ticks > 0


def test_a_source_file_swapped_for_a_link_out_of_the_source_directories_is_refused(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "people.csv").symlink_to("/etc/hostname")
    segment = Segment.model_validate(
        {"name": "people", "source": {"csv": {"path": "../data/people.csv"}}}
    )

    with pytest.raises(SourceInvalid, match=r"segment people: ../data/people.csv resolves to"):
        open_segment(segment, base_dir=tmp_path / "destinations.d", allowlists=policy(tmp_path))


def test_a_query_without_a_time_limit_is_refused_again_when_it_is_opened(tmp_path: Path) -> None:
    # Loading refuses it first (tests/loading/test_policy.py); a caller that skipped
    # loading cannot run it either.
    segment = Segment.model_validate(
        {
            "name": "people",
            "source": {
                "sqlite": {"path": "../data/x.db", "query": "SELECT 1", "statementTimeout": 0}
            },
        }
    )

    with pytest.raises(SourceInvalid) as caught:
        open_segment(segment, base_dir=tmp_path / "destinations.d", allowlists=policy(tmp_path))
    assert caught.value.message == (
        "segment people: statementTimeout 0s (no limit) is not allowed: at most 3600s "
        "(SYNCD_MAX_STATEMENT_TIMEOUT)"
    )
