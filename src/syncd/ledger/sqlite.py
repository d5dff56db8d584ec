"""The embedded ledger: one SQLite file in WAL mode, one writing process.

The process holds an exclusive `flock` on `<file>.lock` for its lifetime, so a
second writer fails at once instead of corrupting the outbox. Readers (`plan`,
`status`) need no lock. Each run gets its own connection (a `SqliteSession`),
whose temporary `snapshot` table holds the segment while SQLite computes the diff,
so memory stays flat whatever the segment's size.

The file holds every address of every segment: personal data. The writer creates
it, its lock and its directory for the owner alone (0600, 0700); SQLite gives its
-wal and -shm files the database's mode. An existing file others could read is
tightened, with a warning. SQLite is given the path as a `file:` URI with every
special character escaped: a `#` or `?` in a path must not move the database away
from its lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import stat
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Any

from syncd.clock import SYSTEM_CLOCK, Clock
from syncd.errors import LedgerConflict, LedgerCorrupt, LedgerUnavailable
from syncd.ledger.auditing import LedgerAuditing
from syncd.ledger.forgetting import LedgerForgetting
from syncd.ledger.identity import ledger_identity
from syncd.ledger.leases import LocalLeases
from syncd.ledger.reading import LedgerReads
from syncd.ledger.session import KEEP_RUNS
from syncd.ledger.sqlite_connection import connect, empty, lock_path
from syncd.ledger.sqlite_errors import translated
from syncd.ledger.sqlite_schema import migrate
from syncd.ledger.sqlite_session import SQL, SqliteSession, SqliteTx
from syncd.logs import get_logger
from syncd.settings import InvalidSettings

log = get_logger("syncd.ledger")

PRIVATE_FILE = 0o600
PRIVATE_DIRECTORY = 0o700
_COMPANIONS = ("", "-wal", "-shm", ".lock")


class SqliteLedger(LedgerReads, LedgerForgetting, LedgerAuditing):
    """The ledger file. `writer=False` opens it for reading only, without the lock."""

    def __init__(
        self,
        path: Path,
        *,
        writer: bool = True,
        clock: Clock = SYSTEM_CLOCK,
        keep_runs: int = KEEP_RUNS,
    ) -> None:
        self.path = path
        self.writer = writer
        self.keep_runs = keep_runs
        self.clock = clock
        self.sql = SQL
        self._lock_file: IO[bytes] | None = None
        self.damaged: str | None = None
        """Why the file is known to be damaged: from then on every use of the ledger fails
        with this message, until a restart (writing on would spread the damage)."""
        self._readable = writer or path.exists()
        if writer:
            self._make_directory()
            self._refuse_another_database()
            self._keep_private()
            self._take_lock()
            try:
                with self._connection(create=True) as connection, self._translated():
                    connection.execute("PRAGMA journal_mode = WAL")
                    migrate(connection, name=str(path))
            except LedgerCorrupt as damage:
                # Opened all the same: the daemon then serves, not ready, and every
                # destination stalls naming the file, where a process that exits would
                # only be restarted into the same damage.
                self.damaged = damage.message
                log.error("ledger.damaged", file=str(path), error=damage.message)

    def _make_directory(self) -> None:
        try:
            self.path.parent.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
        except OSError as error:
            raise LedgerUnavailable(
                f"ledger {self.path}: cannot create its directory {self.path.parent}: "
                f"{error.strerror}; point SYNCD_STATE at a writable directory"
            ) from None

    def _refuse_another_database(self) -> None:
        """SYNCD_STATE naming another program's SQLite file (a source's, say) must not get
        syncd's tables, every address, a changed mode and a lock beside it. Read from the
        file's header before anything touches it: a schema that was changed (the schema
        cookie, at byte 40) without a ledger version (`user_version`, at byte 60, set in
        the transaction that creates the ledger's tables) is not a ledger."""
        try:
            if not self.path.is_file():
                return
            with self.path.open("rb") as file:
                header = file.read(100)
        except OSError:
            return
        if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
            return  # new and empty, or not SQLite: found damaged once opened
        if int.from_bytes(header[40:44], "big") and not int.from_bytes(header[60:64], "big"):
            raise InvalidSettings(
                f"SYNCD_STATE: {self.path} is another database, not a syncd ledger (it holds "
                "tables of its own); point SYNCD_STATE at a file of syncd's own"
            )

    def _keep_private(self) -> None:
        """Create the database for the owner alone, or tighten what others could read."""
        try:
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE))
        except OSError as error:
            raise LedgerUnavailable(f"ledger {self.path}: {error.strerror}") from None
        for suffix in _COMPANIONS:
            companion = self.path.with_name(self.path.name + suffix)
            try:
                mode = stat.S_IMODE(companion.stat().st_mode)
                if mode & 0o077:
                    companion.chmod(PRIVATE_FILE)
            except FileNotFoundError:
                continue
            except OSError as error:  # not ours to change: say so, carry on
                log.warning("ledger.permissions_open", file=str(companion), error=error.strerror)
                continue
            if mode & 0o077:
                log.warning(
                    "ledger.permissions_tightened",
                    file=str(companion),
                    was=oct(mode),
                    now=oct(PRIVATE_FILE),
                    why="the ledger holds every address: personal data",
                )

    def _take_lock(self) -> None:
        lock = lock_path(self.path)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
        handle = os.fdopen(os.open(lock, flags, PRIVATE_FILE), "ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise LedgerConflict(
                f"another syncd process is using the ledger {self.path} (lock {lock}); "
                "stop it, or trigger the running daemon instead (syncd sync NAME talks to it)"
            ) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
        self._lock_file = handle

    def announce(self, admin: str) -> None:
        """Record in the lock file where this process serves its admin API, so the CLI
        finds it (`read_announcement`); the first line stays the process id."""
        if self._lock_file is None:
            return
        record = {"pid": os.getpid(), "admin": admin, "ledger": ledger_identity(str(self.path))}
        self._lock_file.truncate(0)
        self._lock_file.write(f"{os.getpid()}\n{json.dumps(record)}\n".encode())
        self._lock_file.flush()

    def _damage(self, message: str) -> None:
        self.damaged = message

    def _translated(self) -> AbstractContextManager[None]:
        return translated(str(self.path), self._damage)

    @contextmanager
    def _connection(self, *, create: bool = False) -> Iterator[sqlite3.Connection]:
        if self.damaged:
            raise LedgerCorrupt(self.damaged)
        with self._translated():
            if self.writer:
                connection = connect(str(self.path), mode="rwc" if create else "rw")
            elif self._readable:
                connection = connect(str(self.path), mode="ro")
                if not connection.execute("PRAGMA user_version").fetchone()[0]:
                    # Created by a writer that has not yet migrated it (the schema and its
                    # version are one transaction): nothing recorded yet, not damage.
                    connection.close()
                    connection = empty()
            else:  # nothing recorded yet: an empty ledger
                connection = empty()
        try:
            yield connection
        finally:
            connection.close()

    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._connection() as connection, self._translated():
            return connection.execute(sql, params).fetchall()

    @contextmanager
    def _outside(self) -> Iterator[SqliteTx]:
        with self._connection() as connection, self._translated():
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield SqliteTx(connection)
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def ping(self) -> None:
        self._read(self.sql.ping, ())

    @contextmanager
    def session(self, destination: str) -> Iterator[SqliteSession]:
        with self._connection() as connection:
            with self._translated():
                session = SqliteSession(connection, destination, self.clock, writer=self.writer)
            session.translated = self._translated
            session.keep_runs = self.keep_runs
            yield session

    def leases(self, replica: str, *, ttl: float) -> LocalLeases:
        del replica, ttl
        return LocalLeases()

    def close(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
