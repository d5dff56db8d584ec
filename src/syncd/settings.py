"""Process settings from the environment (`SYNCD_*`); command-line options override them.

The operator owns these (destination files do not): among them the allowlists of
what a destination file may name (`syncd.allowlists`). A value that cannot work is
refused here, naming the setting, before anything starts.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from syncd.allowlists import SENDGRID_API, Allowlists, endpoint_problem, env_pattern_problem
from syncd.errors import SyncdError


class InvalidSettings(SyncdError):
    """The process cannot start with these settings; the message names the one to change."""


def parse_listen(value: str) -> tuple[str, int]:
    """`host:port` (`[::1]:9108` for IPv6; an empty host is 127.0.0.1) → (host, port)."""
    host, colon, port = value.strip().rpartition(":")
    if (
        not colon
        or not (port.isascii() and port.isdigit())
        or int(port) > 65535
        or any(c.isspace() for c in host)
    ):
        raise ValueError("should be HOST:PORT, such as 127.0.0.1:9108, 0.0.0.0:9108 or [::1]:9108")
    if host.startswith("[") != host.endswith("]"):
        raise ValueError("an IPv6 host goes in brackets, such as [::1]:9108")
    return host.removeprefix("[").removesuffix("]") or "127.0.0.1", int(port)


def _listen(value: str) -> str:
    parse_listen(value)
    return value


def _token(value: SecretStr) -> SecretStr:
    # Never echoes the value. A token with spaces or controls cannot be sent as
    # `Authorization: Bearer <token>`: nobody could use it (one of spaces alone looked set).
    token = value.get_secret_value()
    if token and not (token.isprintable() and token.isascii() and token == "".join(token.split())):
        raise ValueError(
            "should be printable ASCII without spaces (it is sent as Authorization: Bearer <token>)"
        )
    return value


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(state: str) -> bool:
    """Whether a ledger location (`SYNCD_STATE`) names a PostgreSQL database; anything else
    `Settings.state` accepts is a SQLite file's path. The one place that tells them apart."""
    return state.startswith(POSTGRES_SCHEMES)


def _state(value: str) -> str:
    # Never echoes the value: a connection string may hold a password.
    if is_postgres_url(value):
        return value
    if re.search(r"\b(dbname|host|hostaddr|user|password|port)\s*=", value):
        raise ValueError(
            "takes a SQLite file path or a postgresql:// URL, not a key=value connection "
            "string: write it as postgresql://USER@HOST:5432/DBNAME"
        )
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", value)
    if scheme:
        raise ValueError(
            f"takes a SQLite file path or a postgresql:// URL, not a {scheme[1]}:// URL: "
            "write a file path (a SQLite ledger) or postgresql://USER@HOST:5432/DBNAME"
        )
    return value


def _comma_separated(value: object) -> object:
    """`a, b` from the environment → ("a", "b"); an empty value is an empty list."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def _endpoint(url: str) -> str:
    problem = endpoint_problem(url)
    if problem:
        shown = "an entry" if "@" in url else url  # never echo a password in a URL
        raise ValueError(f"{shown} {problem}")
    return url


def _endpoints(urls: tuple[str, ...]) -> tuple[str, ...]:
    for url in urls:
        _endpoint(url)
    return urls


def _env_patterns(patterns: tuple[str, ...]) -> tuple[str, ...]:
    for pattern in patterns:
        problem = env_pattern_problem(pattern)
        if problem:
            raise ValueError(f"{pattern!r} {problem}")
    return patterns


CommaSeparated = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_separated)]
Directories = Annotated[tuple[Path, ...], NoDecode, BeforeValidator(_comma_separated)]


class Settings(BaseSettings):
    """Every knob of the process. Destination files hold everything per destination."""

    # Errors never show the value: it may be the admin token or a DSN with its password.
    model_config = SettingsConfigDict(
        env_prefix="SYNCD_", frozen=True, extra="ignore", hide_input_in_errors=True
    )

    destinations: Path = Field(
        default=Path("destinations.d"), description="Directory of destination files."
    )
    state: Annotated[str, AfterValidator(_state)] = Field(
        default=".syncd/state.db",
        description="Ledger: a SQLite file path, or a postgresql:// (or postgres://) URL for the "
        "shared ledger; any other URL is refused.",
    )
    sendgrid_base_url: Annotated[str, AfterValidator(_endpoint)] | None = Field(
        default=None,
        description="Points every destination at this SendGrid-compatible endpoint (the "
        "emulator); https, or http to a loopback host.",
    )
    sendgrid_base_urls: Annotated[CommaSeparated, AfterValidator(_endpoints)] = Field(
        default=(SENDGRID_API,),
        description="The URLs a destination's spec.sendgrid.baseUrl may name (comma-separated; "
        "https, or http to a loopback host). Add https://api.eu.sendgrid.com for EU-pinned "
        "accounts.",
    )
    secret_env: Annotated[CommaSeparated, AfterValidator(_env_patterns)] = Field(
        default=("SENDGRID_API_KEY", "SENDGRID_API_KEY_*"),
        description="Environment variables {env: NAME} may name: names or shell-style globs, "
        "comma-separated; SYNCD_* never.",
    )
    secret_dirs: Directories = Field(
        default=(Path("/var/run/secrets/sendgrid"), Path("/var/run/secrets/syncd")),
        description="Directories {file: PATH} may read from (comma-separated; real paths: "
        "symlinks and `..` cannot leave them).",
    )
    source_dirs: Directories | None = Field(
        default=None,
        description="Directories csv, jsonl and sqlite sources may read from (comma-separated; "
        "real paths: symlinks and `..` cannot leave them).",
        json_schema_extra={"shown_default": "the directory that holds the destinations directory"},
    )
    max_statement_timeout: float = Field(
        default=3600.0,
        ge=0,
        description="Seconds a sqlite or postgres source's statementTimeout may be at most; a "
        "destination file's 0 (no limit) or longer is refused. 0: no cap.",
    )
    listen: Annotated[str, AfterValidator(_listen)] = Field(
        default="127.0.0.1:9108",
        description="host:port of the admin server (`[::1]:9108` for IPv6; the container "
        "image sets `0.0.0.0:9108`); beyond loopback it needs SYNCD_ADMIN_TOKEN. "
        "`syncd run --listen` overrides it.",
    )
    metrics_listen: Annotated[str, AfterValidator(_listen)] | None = Field(
        default=None,
        description="host:port of a second listener for /metrics, /healthz and /readyz only, "
        "never a token (the Deployment: `0.0.0.0:9109`).",
    )
    admin_token: Annotated[SecretStr, AfterValidator(_token)] | None = Field(
        default=None,
        description="Bearer token for the admin API's changes and for personal data (unmasked "
        "addresses); required to listen beyond loopback, and always for `allowRemovals=true`.",
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
        "sent again (it may not have registered the job yet), and how long a job's errors file "
        "may be missing (401/403/404/410) before the job's contacts are looked up instead.",
    )
    stuck_job_after: float = Field(
        default=86400.0,
        gt=0,
        description="How long after it was submitted a SendGrid job still pending is taken "
        "for lost: an upsert batch is sent again, a removal checked by searching.",
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
    search_lag_grace: float = Field(
        default=600.0,
        ge=0,
        description="How long SendGrid's search may lag behind a job: a removal it accepted "
        "is sent again only if search still shows it this long after, and the contacts of a "
        "job that ended with errors it did not name are looked up only this long after their "
        "batch went out (the batch stays open meanwhile).",
    )
    stall_recheck: float = Field(
        default=900.0,
        gt=0,
        description="Seconds before a destination stalled by SendGrid (revoked key, missing "
        "scope, deleted list, contact limit) is tried again by itself.",
    )
    plan_timeout: float = Field(
        default=300.0,
        gt=0,
        description="Seconds a plan asked of the daemon (POST /v1/plans) may take before it "
        "is answered 504 and its dry runs are told to stop. Until they have, its destinations "
        "answer 409 to other plans, and it counts among the 4 plans that may run at once "
        "(429 beyond).",
    )
    requests_per_second: float | None = Field(
        default=None,
        gt=0,
        description="Optional request budget per API key, shared by the destinations using it.",
    )
    keep_runs: int = Field(
        default=500,
        ge=1,
        le=100_000,
        description="Runs kept per destination in the ledger (its history: `syncd history`, "
        "the status page); older ones are pruned as runs end.",
    )
    backoff_max: float = Field(
        default=3600.0, gt=0, description="Longest wait before retrying a failed destination."
    )
    replica_id: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}",
        description="This replica's name in the shared ledger.",
        json_schema_extra={"shown_default": "host name and pid"},
    )
    claim_interval: float = Field(
        default=5.0,
        gt=0,
        description="Seconds between two rounds of claiming destinations (shared ledger); "
        "a dead replica's destinations move within about three rounds.",
    )
    audit_settle_window: float = Field(
        default=600.0,
        ge=0,
        description="Seconds after a SendGrid job completed during which an audit leaves its "
        "contacts out (SendGrid may not show them in an export yet; the window ends sooner "
        "when the export holds a later change), and a contact-count mismatch must last "
        "before it starts an audit early.",
    )
    audit_count_tolerance: int = Field(
        default=0,
        ge=0,
        description="How many contacts a list's contact_count may differ from what the ledger "
        "expects before an audit starts early (spec.audit.onCountMismatch).",
    )
    audit_export_timeout: float = Field(
        default=3600.0,
        gt=0,
        description="Seconds an audit waits for SendGrid's export of the list to be ready, "
        "counted from when the export was started (a restart resumes the count, not a new "
        "one); then the export is given up, the audit fails as temporary and the next "
        "starts another: the destination's runs wait behind an export no longer than this.",
    )
    audit_max_download_bytes: int = Field(
        default=10_000_000_000,
        ge=1,
        description="Most bytes an audit downloads from one export (all its files, as sent); "
        "a larger export fails the audit instead of filling the disk.",
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: console on a terminal, JSON otherwise."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="debug, info, warning or error."
    )

    @property
    def listen_address(self) -> tuple[str, int]:
        return parse_listen(self.listen)

    @property
    def ledger_file(self) -> Path | None:
        """The SQLite ledger's file; None when the ledger is PostgreSQL (a URL)."""
        return None if is_postgres_url(self.state) else Path(self.state)

    def allowlists(self) -> Allowlists:
        """The policy destination files are held to, from these settings."""
        sources = self.source_dirs
        if sources is None:
            sources = (Path(os.path.realpath(self.destinations)).parent,)
        return Allowlists(
            sendgrid_base_urls=self.sendgrid_base_urls,
            secret_env=self.secret_env,
            secret_dirs=self.secret_dirs,
            source_dirs=sources,
            ledger_file=self.ledger_file,
            max_statement_timeout=self.max_statement_timeout,
        )
