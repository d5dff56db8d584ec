"""Destinations shared between replicas through PostgreSQL session advisory locks.

A replica owns a destination while it holds a PostgreSQL session advisory lock on a
connection of its own. Replicas heartbeat into the `replicas` table and each takes at
most its fair share (destinations / live replicas), releasing extras when one joins
and claiming orphans when one dies: its connection closes, the server drops its
locks, the others claim them on their next round. A lock alone does not stop a
paused holder from writing late; the session epoch does (see session.py).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Collection, Sequence

import psycopg
import xxhash

from syncd.clock import Clock
from syncd.logs import get_logger

log = get_logger("syncd.leases")


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a destination."""
    value = xxhash.xxh3_64_intdigest(b"syncd-destination:" + name.encode())
    return value - (1 << 64) if value >= 1 << 63 else value


class PostgresLeases:
    def __init__(self, dsn: str, replica: str, clock: Clock, *, ttl: float) -> None:
        self.dsn = dsn
        self.replica = replica
        self.clock = clock
        self.ttl = ttl
        self.held: set[str] = set()
        self._connection: psycopg.Connection | None = None
        self._lock = threading.Lock()

    def _connect(self) -> psycopg.Connection:
        if self._connection is None or self._connection.closed:
            self.held.clear()  # a new connection holds no lock
            self._connection = psycopg.connect(
                self.dsn,
                autocommit=True,
                connect_timeout=10,
                application_name=f"syncd-leases:{self.replica}"[:63],
                keepalives=1,
                keepalives_idle=10,
                keepalives_interval=5,
                keepalives_count=3,
            )
        return self._connection

    def adjust(self, wanted: Sequence[str], busy: Collection[str]) -> set[str]:
        with self._lock:
            try:
                return self._adjust(self._connect(), wanted, busy)
            except psycopg.Error as error:
                # The locks went with the connection: own nothing until reconnected.
                log.warning("leases.lost", replica=self.replica, error=type(error).__name__)
                self.held.clear()
                if self._connection is not None:
                    self._connection.close()
                self._connection = None
                return set()

    def _adjust(
        self, db: psycopg.Connection, wanted: Sequence[str], busy: Collection[str]
    ) -> set[str]:
        now = self.clock.now()
        db.execute(
            b"INSERT INTO replicas (id, seen_at) VALUES (%s, %s)"
            b" ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
            (self.replica, now),
        )
        db.execute(b"DELETE FROM replicas WHERE seen_at < %s", (now - 10 * self.ttl,))
        row = db.execute(b"SELECT count(*) FROM replicas WHERE seen_at >= %s", (now - self.ttl,))
        live = max(1, int(row.fetchone()[0]))  # type: ignore[index]
        share = math.ceil(len(wanted) / live) if wanted else 0
        for name in sorted(self.held - set(wanted)):
            self._release(db, name)
        extras = sorted((n for n in self.held if n not in busy), reverse=True)
        while len(self.held) > share and extras:
            self._release(db, extras.pop(0))
        for name in sorted(set(wanted) - self.held):
            if len(self.held) >= share:
                break
            got = db.execute(b"SELECT pg_try_advisory_lock(%s)", (lock_key(name),)).fetchone()
            if got and got[0]:
                self.held.add(name)
                log.info("leases.claimed", replica=self.replica, destination=name)
        return set(self.held)

    def _release(self, db: psycopg.Connection, name: str) -> None:
        db.execute(b"SELECT pg_advisory_unlock(%s)", (lock_key(name),))
        self.held.discard(name)
        log.info("leases.released", replica=self.replica, destination=name)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()  # the server releases every lock with it
                self._connection = None
            self.held.clear()
