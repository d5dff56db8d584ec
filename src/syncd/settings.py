"""Process settings from the environment (`SYNCD_*`); command-line options override them."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the process. Destination files hold everything per destination."""

    model_config = SettingsConfigDict(env_prefix="SYNCD_", frozen=True, extra="ignore")

    destinations: Path = Field(
        default=Path("destinations.d"), description="Directory of destination files."
    )
    state: str = Field(
        default=".syncd/state.db",
        description="Ledger: a SQLite file path, or a postgresql:// URL for the shared ledger.",
    )
    sendgrid_base_url: str | None = Field(
        default=None,
        description="Points every destination at this SendGrid-compatible endpoint (the emulator).",
    )
    listen: str = Field(default="127.0.0.1:9108", description="host:port of the admin server.")
    admin_token: SecretStr | None = Field(
        default=None, description="Bearer token required by POST /v1/... when set."
    )
    shutdown_timeout: float = Field(
        default=20.0, gt=0, description="Seconds in-flight work gets to finish after SIGTERM."
    )
    rescan_interval: float = Field(
        default=30.0,
        gt=0,
        description="Seconds between full rescans of the destinations directory.",
    )
    debounce: float = Field(
        default=1.0, ge=0, description="Seconds to wait for a burst of file events to settle."
    )
    max_concurrent_runs: int = Field(
        default=4, ge=1, description="Runs in flight at once across all destinations."
    )
    http_timeout: float = Field(default=60.0, gt=0, description="Seconds per SendGrid request.")
    job_poll_max_interval: float = Field(
        default=30.0, gt=0, description="Longest pause between two polls of a SendGrid job."
    )
    job_timeout: float = Field(
        default=3600.0,
        gt=0,
        description="How long one run waits for SendGrid jobs before leaving them to the next run.",
    )
    unknown_job_grace: float = Field(
        default=600.0,
        gt=0,
        description="How long SendGrid may answer 404 for an upsert job before its batch is "
        "sent again (it may not have registered the job yet).",
    )
    max_batch_sends: int = Field(
        default=10,
        ge=1,
        description="How many times one batch may go out without SendGrid confirming a job "
        "before the destination stalls with the reason (never a hot loop).",
    )
    removal_window: float = Field(
        default=3600.0,
        gt=0,
        description="How long a contact that left the segment but is not found by SendGrid's "
        "search (it can lag minutes behind) is looked for again before it is reported as "
        "not in SendGrid.",
    )
    stall_recheck: float = Field(
        default=900.0,
        gt=0,
        description="Seconds before a destination stalled by SendGrid (revoked key, missing "
        "scope, deleted list, contact limit) is tried again by itself.",
    )
    requests_per_second: float | None = Field(
        default=None,
        gt=0,
        description="Optional request budget per API key, shared by the destinations using it.",
    )
    backoff_max: float = Field(
        default=3600.0, gt=0, description="Longest wait before retrying a failed destination."
    )
    replica_id: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}",
        description="This replica's name in the shared ledger (default: host name and pid).",
    )
    claim_interval: float = Field(
        default=5.0,
        gt=0,
        description="Seconds between two rounds of claiming destinations (shared ledger); "
        "a dead replica's destinations move within about three rounds.",
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: console on a terminal, JSON otherwise."
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
