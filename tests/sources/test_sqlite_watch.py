"""The watcher of a SQLite query (`sqlite_watch.Watch`), alone: no database needed."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from syncd.sources.sqlite_watch import LOOK_EVERY, Watch


def test_a_stop_is_sent_again_while_the_call_runs_not_once() -> None:
    # SQLite ignores an interrupt that lands before the statement is under way (a call
    # just entered: Python still preparing it). Sent once, it was lost, and an endless
    # query ran on after SIGTERM (a fresh-clone `make test` run hung there for 15 s).
    interrupts: list[float] = []
    ended = threading.Event()

    def interrupt() -> None:
        interrupts.append(time.monotonic())
        if len(interrupts) >= 3:  # the statement is under way now: this one lands
            ended.set()

    watch = Watch(interrupt, timedelta(0), stopping=lambda: True)
    try:
        with watch.running():
            assert ended.wait(40 * LOOK_EVERY), interrupts
    finally:
        watch.close()
    assert watch.ended_by == "stopping"
