"""Structured logs: JSON when not on a terminal, with secrets and emails masked.

`scrub` is the one scrubber for everything that leaves the process: every log line
(a processor no caller can bypass), every HTTP JSON answer, the CLI's output and the
texts the ledger stores. It removes:

- every registered secret: API keys and DSNs as they are read, the admin token and
  a ledger DSN at start-up; for a DSN also its password alone, as written, URL-decoded
  and URL-encoded (libpq quotes a password with a `%` or a space back in its errors).
  Values shorter than 6 characters are not registered: they would mask common words;
- anything shaped like a SendGrid key, a `scheme://user:password@` or `password=`;
- email addresses, each replaced by a short keyed hash (two lines about one contact
  can still be matched), except where the caller asks to keep them (the ledger,
  which holds every address anyway, and `syncd status NAME --rejections`). An address
  already masked as the JSON shapes mask it (`a***@example.com`) is left as it is.

It also makes control characters visible (`shown`): a value from a source or from
SendGrid (a name a marketer typed, a reason SendGrid wrote) may hold a terminal escape
sequence, which printed as it is would take over the terminal that shows it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
import threading
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import structlog

_SENDGRID_KEY = re.compile(r"SG\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")
# Each pattern starts where a run of the characters it begins with starts (a lookbehind):
# tried at every position of a long run (200,000 `x` in an error body), the search was
# quadratic and held the event loop for seconds, minutes for megabytes.
# A URL's password holds no `/` (RFC 3986 userinfo; libpq ends the authority there too):
# `[^@\s]+` ran on to the end of a long run at every `scheme://user:` in it, quadratic
# ("a://" 60,000 times in a displayName held the loop for 70 s).
_DSN_PASSWORD = re.compile(
    r"(?<![a-z0-9+.\-])(?P<head>[a-z][a-z0-9+.\-]*://[^:/@\s]+:)(?P<pw>[^@/\s]+)(?=@)", re.I
)
_PASSWORD_PARAM = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<pw>'[^']*'|\"[^\"]*\"|\S+)", re.I)
_LOCAL = r"A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-"
_EMAIL = re.compile(rf"(?<![{_LOCAL}])[{_LOCAL}]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
# Punctuation before the mask is the text around it (a Markdown code span's backtick).
_MASKED = re.compile(r"[^A-Za-z0-9@]*[A-Za-z0-9]?\*\*\*@.*")

# C0 and C1 controls and DEL: ESC (U+001B) and CSI (U+009B) start every terminal escape
# sequence, a carriage return overwrites the line it is on. With them the bidirectional
# embeddings, overrides and isolates, which reorder how the text after them shows (a name
# reads as another: "Trojan Source"), and the line and paragraph separators U+2028 and
# U+2029, line breaks to many viewers. One definition: values syncd sends are held to it
# too (`syncd.contacts.values`).
CONTROL_RANGES = ((0x00, 0x1F), (0x7F, 0x9F), (0x2028, 0x2029), (0x202A, 0x202E), (0x2066, 0x2069))
"""C0, DEL and C1; the line and paragraph separators; the bidirectional embeddings,
overrides and isolates."""


def controls(*, keep: str = "") -> re.Pattern[str]:
    """One control character (`CONTROL_RANGES`), but those of `keep`: every pattern of
    them is built here, so that none spells the ranges apart."""
    members = (chr(code) for low, high in CONTROL_RANGES for code in range(low, high + 1))
    return re.compile("[" + "".join(re.escape(c) for c in members if c not in keep) + "]")


_HIDDEN = controls(keep="\t\n")
"""Every control character but tab and line feed, which texts keep."""

_secrets: set[str] = set()
_longest_first: tuple[str, ...] = ()
_secrets_lock = threading.Lock()
_MIN_SECRET_LENGTH = 6


def register_secret(value: str) -> None:
    """Mask this value wherever it appears from now on; for a DSN, its password too; for a
    SendGrid key (`SG.<id>.<secret>`), its id and secret on their own too (an answer
    may quote a key without its `SG.`)."""
    global _longest_first
    parts = {p for p in _with_password(value) | _key_parts(value) if len(p) >= _MIN_SECRET_LENGTH}
    with _secrets_lock:
        if parts <= _secrets:
            return
        _secrets.update(parts)
        # A whole DSN goes before the password inside it: one `***`, not a half-masked URL.
        _longest_first = tuple(sorted(_secrets, key=len, reverse=True))


def _key_parts(value: str) -> set[str]:
    key = value.strip()
    if not _SENDGRID_KEY.fullmatch(key):
        return set()
    _, key_id, secret = key.split(".", 2)
    return {key_id, secret, f"{key_id}.{secret}"}


def _with_password(value: str) -> set[str]:
    """The value and, if it holds a password (`://user:pw@`, `?password=`, `password=`),
    that password as written, URL-decoded and URL-encoded."""
    passwords = [m.group("pw").strip("'\"") for m in _PASSWORD_PARAM.finditer(value)]
    try:
        split = urlsplit(value.strip())
        if split.scheme and split.password:
            passwords.append(split.password)
        passwords += parse_qs(split.query).get("password", [])
    except ValueError:  # not a URL after all (an unbalanced `[`, a bad port)
        pass
    parts = {value}
    for password in passwords:
        decoded = unquote(password)
        parts |= {password, decoded, quote(password, safe=""), quote(decoded, safe="")}
    return parts


def email_token(email: str) -> str:
    """A stable, non-reversible stand-in for an address in logs and reports."""
    digest = hashlib.blake2b(email.lower().encode(), digest_size=6, key=b"syncd-log").hexdigest()
    return f"<email:{digest}>"


def shown(text: str) -> str:
    """`text` with each control character but tab and line feed written as its escape
    (`\u001b`): seen, never obeyed. Inside a JSON string the escape means the same."""
    return _HIDDEN.sub(_escape, text) if _HIDDEN.search(text) else text


_ANY_CONTROL = controls()


def one_line(text: str) -> str:
    """`text` as one line: every control character written as its escape, tab and line
    feed too (a file's name may hold a line feed, and a line of `syncd validate` that
    names it must not start a line of its own: CI reads them as findings)."""
    return _ANY_CONTROL.sub(_escape, text) if _ANY_CONTROL.search(text) else text


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match[0]):04x}"


def scrub(text: str, *, addresses: bool = True) -> str:
    """Remove secrets, and addresses unless `addresses` is False, from one string; make its
    control characters visible (`shown`)."""
    text = shown(text)
    for secret in _longest_first:
        if secret in text:
            text = text.replace(secret, "***")
    text = _SENDGRID_KEY.sub("SG.***", text)
    text = _DSN_PASSWORD.sub(r"\g<head>***", text)
    text = _PASSWORD_PARAM.sub(r"\g<head>***", text)
    if not addresses:
        return text
    return _EMAIL.sub(_address_token, text)


def _address_token(match: re.Match[str]) -> str:
    address = match.group(0)
    return address if _MASKED.fullmatch(address) else email_token(address)


def scrub_data(value: Any, *, addresses: bool = True) -> Any:
    """`scrub` applied to every string inside JSON-like data (keys included)."""
    if isinstance(value, str):
        return scrub(value, addresses=addresses)
    if isinstance(value, dict):
        return {
            scrub_data(k, addresses=addresses): scrub_data(v, addresses=addresses)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub_data(v, addresses=addresses) for v in value]
    if isinstance(value, BaseException):
        return scrub(f"{type(value).__name__}: {value}", addresses=addresses)
    return value


def scrub_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        event[key] = scrub_data(value)
    return event


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        # Tracebacks as plain text without local variables: locals may hold keys.
        structlog.processors.format_exc_info,
        scrub_event,
    ]


def configure(log_format: str = "auto", level: str = "info", stream: Any = None) -> None:
    """Route structlog and the standard library's loggers to one scrubbed renderer."""
    out = stream or sys.stderr
    as_json = log_format == "json" or (log_format == "auto" and not out.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=_shared_processors(),
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiohttp.access", "watchfiles"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str, **context: Any) -> Any:
    """A lazy logger: safe to create at import time, before `configure` runs."""
    return structlog.get_logger(name, **context)
