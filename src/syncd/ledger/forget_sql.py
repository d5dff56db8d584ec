"""The statements of erasure (`syncd forget`), for SQLite and PostgreSQL alike."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from syncd.ledger.statements import Statements


@dataclass(frozen=True)
class ForgetSql(Statements):
    # -- ledger-wide: the salt and the forgotten hashes ------------------------------------
    get_salt: str = "SELECT salt FROM forget_salt WHERE id = 1"
    put_salt: str = "INSERT INTO forget_salt (id, salt) VALUES (1, ?) ON CONFLICT (id) DO NOTHING"
    remember: str = (
        "INSERT INTO forgotten (digest, scope, forgotten_at) VALUES (?, ?, ?)"
        " ON CONFLICT (digest, scope) DO NOTHING"
    )
    scopes: str = "SELECT scope FROM forgotten WHERE digest = ? ORDER BY scope"
    lift: str = "DELETE FROM forgotten WHERE digest = ? AND scope = ?"
    lift_all: str = "DELETE FROM forgotten WHERE digest = ?"
    applying_to: str = "SELECT digest FROM forgotten WHERE scope = '' OR scope = ?"
    holds: str = (
        "SELECT (SELECT count(*) FROM acked WHERE destination = ? AND email = ?)"
        " + (SELECT count(*) FROM outbox_items WHERE destination = ? AND email = ?)"
    )

    # -- one destination's records of an address -------------------------------------------
    erase_acked: str = "DELETE FROM acked WHERE destination = ? AND email = ?"
    erase_attempts: str = "DELETE FROM attempts WHERE destination = ? AND email = ?"
    erase_removal: str = "DELETE FROM removals WHERE destination = ? AND email = ?"
    erase_departure: str = "DELETE FROM departures WHERE destination = ? AND email = ?"
    # The address in its own column, or quoted in a reason (SendGrid's quote it); LIKE with
    # an escape, since `_` and `%` are common in addresses.
    erase_rejections: str = (
        "DELETE FROM rejections WHERE destination = ?"
        " AND (email = ? OR lower(reason) LIKE ? ESCAPE '\\')"
    )
    errors_quoting: str = (
        "SELECT id, error FROM runs WHERE destination = ? AND lower(error) LIKE ? ESCAPE '\\'"
    )
    set_error: str = "UPDATE runs SET error = ? WHERE id = ?"
    held_in: str = (
        "SELECT b.id, b.state FROM outbox_items o JOIN batches b ON b.id = o.batch_id"
        " WHERE o.destination = ? AND o.email = ?"
    )
    forget_in_sync: str = "UPDATE destinations SET in_sync = NULL WHERE name = ?"

    # -- erasures in SendGrid, carried out through this destination's outbox ---------------
    queue_erasure: str = (
        "INSERT INTO erasures (destination, email, requested_at) VALUES (?, ?, ?)"
        " ON CONFLICT (destination, email) DO UPDATE SET"
        " requested_at = excluded.requested_at, first_missed_at = NULL"
    )
    erasures: str = (
        "SELECT email, first_missed_at, sent_at, sends FROM erasures"
        " WHERE destination = ? ORDER BY email"
    )
    # An upsert in flight (of any destination) could create the contact again after its
    # deletion: the erasure waits for its job.
    upserts_in_flight: str = (
        "SELECT DISTINCT o.email FROM outbox_items o JOIN batches b ON b.id = o.batch_id"
        " WHERE b.kind = 'upsert' AND o.email IN"
        " (SELECT email FROM erasures WHERE destination = ?)"
    )
    erasure_missed: str = (
        "UPDATE erasures SET first_missed_at = coalesce(first_missed_at, ?)"
        " WHERE destination = ? AND email = ?"
    )
    erasure_sent: str = (
        "UPDATE erasures SET sent_at = ?, sends = sends + 1 WHERE destination = ? AND email = ?"
    )
    erasure_done: str = "DELETE FROM erasures WHERE destination = ? AND email = ?"
    count_erasures: str = "SELECT count(*) FROM erasures WHERE destination = ?"


@functools.cache
def forget_sql(param: str) -> ForgetSql:
    """The statements with a backend's placeholder (`?` or `%s`)."""
    return ForgetSql(param=param)
