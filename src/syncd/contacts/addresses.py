"""Email addresses as SendGrid takes them."""

from __future__ import annotations

import re

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

# Plain ASCII addresses that email-validator certainly accepts: letters, digits and
# `_+-` in dot-separated local atoms; a host of LDH labels under a letters-only top-level
# domain. Anything else (quotes, IDNs, odd characters, reserved names) takes the full
# check. A test feeds both the same addresses to keep the shortcut a subset.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)


def plainly_valid(email: str) -> bool:
    if len(email) > 254 or not _PLAIN_EMAIL.fullmatch(email):
        return False
    local, _, domain = email.partition("@")
    if len(local) > 64 or "xn--" in domain:
        return False
    return domain.rpartition(".")[2] not in SPECIAL_USE_DOMAIN_NAMES


def refusal(email: str) -> str | None:
    """Why SendGrid would refuse this trimmed, lower-cased address, or None."""
    if plainly_valid(email):
        return None
    try:
        validate_email(
            email,
            check_deliverability=False,
            allow_smtputf8=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError as error:
        return f"email is not a valid address: {error}"
    return None
