"""Email addresses as SendGrid takes them, and the form it stores: the contact's key.

SendGrid stores addresses lower-cased and accepts only ASCII before the @. An address
written with an internationalised domain is keyed, fingerprinted and sent with that
domain in its ASCII (IDNA) form, the one a DNS lookup uses, so that `a@bücher.ch` and
`a@xn--bcher-kva.ch` are one contact. Plain ASCII addresses, nearly all of them, take
none of this: `key` checks `str.isascii()` (constant time) and lower-cases them.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Final

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from syncd.contacts.values import Refused

CHECKS: Final[dict[str, Any]] = {
    "check_deliverability": False,
    "allow_smtputf8": False,  # SendGrid takes no address with non-ASCII before the @
    "allow_quoted_local": False,
    "allow_domain_literal": False,
}
# The only characters that are not ASCII but whose lower case is (or holds) an ASCII
# letter: U+212A KELVIN SIGN → k, U+0130 (capital I with a dot) → i and a combining dot.
# Lower-casing would turn the Kelvin sign and "ate@example.com" into kate@example.com,
# someone else. (A test checks the list against every code point.)
LOWERS_INTO_ASCII: Final = frozenset("\u0130\u212a")

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


def address_key(written: str) -> str:
    """The address as SendGrid stores it: trimmed, lower-cased, its domain in ASCII.

    Raises `Refused` for an address that cannot be written so without becoming another."""
    address = written.strip()
    if address.isascii():
        return address.lower()
    turned = next((c for c in address if c in LOWERS_INTO_ASCII), None)
    if turned is not None:
        raise Refused(
            f"email is not a valid address: U+{ord(turned):04X} would become an ASCII letter "
            "when lower-cased, which makes it another address"
        )
    local, at, domain = address.rpartition("@")
    if not at:
        raise Refused("email is not a valid address: no @")
    if not local.isascii():
        raise Refused(
            "email is not a valid address: SendGrid does not accept non-ASCII characters "
            "before the @"
        )
    try:
        checked = validate_email(address, **CHECKS)
    except EmailNotValidError as error:
        raise Refused(f"email is not a valid address: {_said(error)}") from None
    # IDNA maps some characters to others (the long s to s, full-width letters to ASCII,
    # U+3002 to a dot): such a domain is refused rather than read as another.
    given = unicodedata.normalize("NFC", domain.lower()).split(".")
    stored = checked.domain.split(".")
    if len(given) != len(stored) or any(
        label != kept for label, kept in zip(given, stored, strict=True) if not label.isascii()
    ):
        raise Refused(
            "email is not a valid address: its domain changes when converted to ASCII "
            "(IDNA maps some of its characters to others); write the domain as it is meant"
        )
    return f"{local}@{checked.ascii_domain}".lower()


def refusal(email: str) -> str | None:
    """Why SendGrid would refuse this address as `address_key` gave it, or None."""
    if plainly_valid(email):
        return None
    try:
        validate_email(email, **CHECKS)
    except EmailNotValidError as error:
        return f"email is not a valid address: {_said(error)}"
    return None


_QUOTED = re.compile(r"'[^']{2,}'|\"[^\"]{2,}\"")
"""A span the validator quotes (Python's repr: in double quotes when it holds a `'`)."""


def _said(error: EmailNotValidError) -> str:
    """The validator's reason without the part of the address it quotes (an IDNA error
    quotes a whole label: `… at position 2 of 'ü—hunter2' not allowed`), which would
    reach plans and the status page unmasked; a single character it names stays."""
    return _QUOTED.sub("'…'", str(error))
