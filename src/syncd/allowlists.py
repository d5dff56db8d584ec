"""The operator's allowlists: which SendGrid URLs, secrets and source files a destination may name.

Destination files arrive through pull requests and are checked (`syncd validate`,
`syncd plan`) before anyone merged them: they are not trusted. Without limits, a file
could name any environment variable or file as its API key and any host as SendGrid,
and syncd would send that secret there as a Bearer token. The operator, who owns
syncd's settings and environment, says what a file may name:

| setting | what a destination file may name |
|---|---|
| `SYNCD_SENDGRID_BASE_URLS` | `spec.sendgrid.baseUrl` |
| `SYNCD_SECRET_ENV` | `{env: NAME}`: names or shell-style globs; `SYNCD_*` never |
| `SYNCD_SECRET_DIRS` | `{file: PATH}`: files inside these directories |
| `SYNCD_SOURCE_DIRS` | csv, jsonl, sqlite sources: files inside these, never the ledger |
| `SYNCD_MAX_STATEMENT_TIMEOUT` | a query's `statementTimeout`: at most this, never 0 |

Paths are compared by their real path (symlinks followed, `..` removed, then
checked), on both sides, so neither a link nor `..` leads out of an allowed
directory. A URL is compared parsed (scheme, host, port, path), never as a text
prefix. Plain `http://` is only ever accepted to a loopback host.

This module only decides: it reads no secret, no environment variable and opens no
file. `Settings.allowlists()` builds the one policy object a process passes around;
the refusals (`NotAllowed`) say what is refused and which setting would allow it.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import yarl

SENDGRID_API = "https://api.sendgrid.com"
NEVER_ENV_PREFIX = "SYNCD_"
"""syncd's own settings (the admin token, a ledger DSN) are never a destination's secret."""
LOOPBACK_NAMES = frozenset({"localhost"})


class NotAllowed(ValueError):
    """A reference the allowlists refuse. `reason` reads after the refused value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or `localhost`: reachable from this host only."""
    bare = host.strip().removeprefix("[").removesuffix("]").lower()
    if bare in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False


def endpoint_problem(url: str) -> str | None:
    """Why `url` cannot be a SendGrid endpoint at all, or None.

    https, or http to a loopback host (the emulator); a host; no user, query or fragment.
    """
    try:
        parsed = yarl.URL(url)
    except (TypeError, ValueError):
        return "is not a URL"
    if parsed.scheme not in ("https", "http") or not parsed.host:
        return "is not an http(s) URL with a host"
    if parsed.user is not None or parsed.password is not None:
        return "must not hold a user name or password"
    if parsed.query_string or parsed.fragment:
        return "must not hold a query or a fragment"
    if parsed.scheme == "http" and not is_loopback(parsed.host):
        return (
            "uses plain http to a host that is not loopback (127.0.0.0/8, ::1, localhost); "
            "use https"
        )
    return None


def same_origin(url: str, base: str) -> bool:
    """Whether a request to `url` goes to the scheme, host and port of `base`.

    The API key belongs to `base`'s origin; any other origin (a download link SendGrid
    hands out, `https://api.sendgrid.com.evil.net`, `https://api.sendgrid.com@evil.net`)
    must not receive it.
    """
    try:
        target, own = yarl.URL(url), yarl.URL(base)
    except (TypeError, ValueError):
        return False
    if not target.host or not own.host:
        return False
    return _origin(target) == _origin(own)


def _origin(url: yarl.URL) -> tuple[str, str, int | None]:
    return (url.scheme.lower(), (url.host or "").lower(), url.port)


def _endpoint(url: str) -> tuple[str, str, int | None, str] | None:
    """Scheme, host, port and path without the trailing `/`: equal for equal endpoints."""
    try:
        parsed = yarl.URL(url)
    except (TypeError, ValueError):
        return None
    if not parsed.host or parsed.query_string or parsed.fragment or parsed.user is not None:
        return None
    return (*_origin(parsed), parsed.path.rstrip("/"))


def env_pattern_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be an entry of SYNCD_SECRET_ENV, or None."""
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_*?[]!")
    if not pattern or set(pattern) - allowed:
        return "should be a variable name or a shell-style glob (letters, digits, _, *, ?, [])"
    return None


def real_path(written: str, relative_to: Path) -> Path:
    """A path as written in a destination file, as the filesystem would open it.

    Relative to the destination file's directory; every symlink followed, `..` removed.
    Nothing needs to exist: what does not is taken as written.
    """
    given = Path(written)
    return Path(os.path.realpath(given if given.is_absolute() else relative_to / given))


def _inside(path: Path, directories: Iterable[Path]) -> bool:
    return any(path.is_relative_to(os.path.realpath(d)) for d in directories)


def _listed(values: Iterable[object]) -> str:
    return ", ".join(str(v) for v in values) or "none"


@dataclass(frozen=True)
class Allowlists:
    """What destination files may name; built once from the settings (`Settings.allowlists`)."""

    sendgrid_base_urls: tuple[str, ...]
    secret_env: tuple[str, ...]
    secret_dirs: tuple[Path, ...]
    source_dirs: tuple[Path, ...]
    ledger_file: Path | None = None
    """The SQLite ledger, never a source (its files may lie inside a source directory)."""
    max_statement_timeout: float = 3600.0
    """Seconds a source query may run at most; 0: no cap."""

    def check_sendgrid_url(self, url: str) -> None:
        """`spec.sendgrid.baseUrl`: one of SYNCD_SENDGRID_BASE_URLS (compared parsed)."""
        wanted = _endpoint(url)
        if wanted is None or wanted not in {_endpoint(a) for a in self.sendgrid_base_urls}:
            raise NotAllowed(
                f"is not an allowed SendGrid URL; allowed: {_listed(self.sendgrid_base_urls)} "
                "(SYNCD_SENDGRID_BASE_URLS)"
            )

    def check_secret_env(self, name: str) -> None:
        """`{env: NAME}`: a name SYNCD_SECRET_ENV matches, and never one of syncd's own."""
        if name.upper().startswith(NEVER_ENV_PREFIX):
            raise NotAllowed(
                f"is one of syncd's own settings ({NEVER_ENV_PREFIX}*), never a secret a "
                "destination file may use"
            )
        if not any(fnmatchcase(name, pattern) for pattern in self.secret_env):
            raise NotAllowed(
                f"is not an allowed environment variable; allowed: {_listed(self.secret_env)} "
                "(SYNCD_SECRET_ENV)"
            )

    def secret_file(self, written: str, relative_to: Path) -> Path:
        """`{file: PATH}`: its real path, inside one of SYNCD_SECRET_DIRS."""
        return self._file(written, relative_to, self.secret_dirs, "secret", "SYNCD_SECRET_DIRS")

    def source_file(self, written: str, relative_to: Path) -> Path:
        """A csv, jsonl or sqlite source: its real path, inside one of SYNCD_SOURCE_DIRS,
        and not the ledger or one of its side files (`-wal`, `-shm`, `-journal`)."""
        real = self._file(written, relative_to, self.source_dirs, "source", "SYNCD_SOURCE_DIRS")
        if self.ledger_file is not None:
            ledger = Path(os.path.realpath(self.ledger_file))
            if real.parent == ledger.parent and real.name.startswith(ledger.name):
                raise NotAllowed("is syncd's own ledger (SYNCD_STATE), never a source")
        return real

    def check_statement_timeout(self, seconds: float) -> None:
        """A source query's `statementTimeout`: at most SYNCD_MAX_STATEMENT_TIMEOUT, and
        0 (no limit) only when that is 0 too."""
        cap = self.max_statement_timeout
        if cap and not seconds:
            raise NotAllowed(
                f"(no limit) is not allowed: at most {cap:g}s (SYNCD_MAX_STATEMENT_TIMEOUT)"
            )
        if cap and seconds > cap:
            raise NotAllowed(f"is longer than the allowed {cap:g}s (SYNCD_MAX_STATEMENT_TIMEOUT)")

    @staticmethod
    def _file(
        written: str, relative_to: Path, directories: tuple[Path, ...], kind: str, setting: str
    ) -> Path:
        try:
            real = real_path(written, relative_to)
        except (OSError, ValueError):  # a NUL byte, a name too long for the system
            raise NotAllowed("is not a usable path") from None
        if _inside(real, directories):
            return real
        where = "is" if str(real) == written else f"resolves to {real}, which is"
        raise NotAllowed(
            f"{where} outside the allowed {kind} directories: {_listed(directories)} ({setting})"
        )
