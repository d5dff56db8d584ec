"""Bearer API keys and their scopes (the scope table is in `rules`)."""

from __future__ import annotations

from collections.abc import Mapping

from syncd.emulator import rules


def bearer_key(header: str | None) -> str | None:
    """The key of an `Authorization: Bearer <key>` header, or None."""
    if not header:
        return None
    scheme, _, key = header.strip().partition(" ")
    key = key.strip()
    return key if scheme.lower() == "bearer" and key else None


def scopes_of(key: str, api_keys: Mapping[str, frozenset[str]]) -> frozenset[str] | None:
    """The key's scopes; None for an unknown key. With no keys configured every key has all."""
    if not api_keys:
        return rules.ALL_SCOPES
    return api_keys.get(key)


def refusal(
    header: str | None, template: str, api_keys: Mapping[str, frozenset[str]]
) -> tuple[int, str] | None:
    """Why a request may not proceed, as (status, message), or None when it may."""
    key = bearer_key(header)
    if key is None:
        return 401, rules.MSG_AUTH_REQUIRED
    scopes = scopes_of(key, api_keys)
    if scopes is None:
        return 401, rules.MSG_AUTH_INVALID
    if not rules.REQUIRED_SCOPES.get(template, frozenset()) <= scopes:
        return 403, rules.MSG_FORBIDDEN
    return None
