"""Structured logs: JSON when not on a terminal, with secrets and emails masked.

Every log line passes two processors that no caller can bypass:
`mask_secrets` (SendGrid-shaped keys, registered secret values, DSN passwords)
and `redact_emails` (an address becomes a short keyed hash, so two lines about
the same contact can still be matched without revealing it).
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
import threading
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

_SENDGRID_KEY = re.compile(r"SG\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")
_DSN_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.\-]*://[^:/@\s]+:)(?P<pw>[^@\s]+)(?=@)", re.I)
_PASSWORD_PARAM = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<pw>'[^']*'|\"[^\"]*\"|\S+)", re.I)
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_MIN_SECRET_LENGTH = 6


def register_secret(value: str) -> None:
    """Mask this exact value wherever it appears from now on."""
    if len(value) >= _MIN_SECRET_LENGTH:
        with _secrets_lock:
            _secrets.add(value)


def email_token(email: str) -> str:
    """A stable, non-reversible stand-in for an address in logs and reports."""
    digest = hashlib.blake2b(email.lower().encode(), digest_size=6, key=b"syncd-log").hexdigest()
    return f"<email:{digest}>"


def scrub(text: str) -> str:
    """Remove secrets and addresses from one string."""
    if _secrets:
        for secret in tuple(_secrets):
            if secret in text:
                text = text.replace(secret, "***")
    text = _SENDGRID_KEY.sub("SG.***", text)
    text = _DSN_PASSWORD.sub(r"\g<head>***", text)
    text = _PASSWORD_PARAM.sub(r"\g<head>***", text)
    return _EMAIL.sub(lambda m: email_token(m.group(0)), text)


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_value(v) for v in value]
    if isinstance(value, BaseException):
        return scrub(f"{type(value).__name__}: {value}")
    return value


def scrub_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        event[key] = _scrub_value(value)
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


def secrets_in(texts: Iterable[str]) -> list[str]:
    """The registered secrets that occur in any of these texts (for self-checks in tests)."""
    return [s for s in tuple(_secrets) if any(s in t for t in texts)]
