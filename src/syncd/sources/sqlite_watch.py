"""A SQLite query's time limit and the run's stop signal, enforced from another thread.

SQLite looks at a progress handler only between virtual-machine steps, and one step (a
built-in function over long values: `instr`, `replace`, `trim`, `LIKE`) can take
seconds; a handler looked at every thousand steps let a query of twelve such rows run
for minutes past a one-second limit. So a watcher thread calls
`Connection.interrupt()` once the limit is reached or the run is stopping, without
waiting for the query to reach a step boundary of the handler's choosing: SQLite ends
the statement as soon as the step running returns.

The limit counts only the time spent inside calls into SQLite (`running`): the time
between two fetches is syncd's, not the query's, as with PostgreSQL's
`statement_timeout` per fetch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Literal

from syncd.sources.base import Stopping

LOOK_EVERY = 0.05
"""Seconds between two looks of the watcher at the clock and the stop signal (a
callable: nothing to wait on). It looks on its own rather than being woken by each call:
a read of a million rows makes a hundred thousand calls, and waking a thread for each
doubled the read's CPU time."""

Ending = Literal["timeout", "stopping"]


class Watch:
    """One query's budget. `running()` around each call into SQLite; `close()` at the end."""

    def __init__(self, interrupt: Callable[[], None], limit: timedelta, stopping: Stopping) -> None:
        self.limit = limit.total_seconds() or float("inf")  # 0: no limit, as in PostgreSQL
        self.spent = 0.0
        self.ended_by: Ending | None = None
        self._interrupt = interrupt
        self._stopping = stopping
        self._changed = threading.Condition(threading.Lock())
        self._since: float | None = None  # a call into SQLite runs since then
        self._closed = False
        self._thread: threading.Thread | None = None

    @contextmanager
    def running(self) -> Iterator[None]:
        """One call into SQLite: timed, and interrupted when the budget runs out."""
        with self._changed:
            self._since = time.monotonic()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, name="syncd-sqlite-watch", daemon=True
                )
                self._thread.start()
        try:
            yield
        finally:
            with self._changed:
                self.spent += time.monotonic() - self._since
                self._since = None

    def close(self) -> None:
        """Ends the watcher; call it before closing the connection (never interrupted
        once closed)."""
        with self._changed:
            self._closed = True
            self._changed.notify()
        if self._thread is not None:
            self._thread.join()

    def _watch(self) -> None:
        with self._changed:
            while not self._closed:
                wait = LOOK_EVERY  # between calls: syncd's time, nothing to interrupt
                if self._since is not None:
                    left = self.limit - self.spent - (time.monotonic() - self._since)
                    if self._stopping():
                        self.ended_by = "stopping"
                    elif left <= 0:
                        self.ended_by = "timeout"
                    if self.ended_by is not None:
                        # Under the lock: the call has not been counted as ended yet, so
                        # its reader sees ended_by as soon as it returns. Again at every
                        # look while the call runs: an interrupt that lands before SQLite
                        # has begun the statement is a no-op, and the query ran on.
                        self._interrupt()
                    else:
                        wait = min(left, LOOK_EVERY)
                self._changed.wait(wait)
