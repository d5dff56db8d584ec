"""How a run in flight reads on a terminal or in a log (`syncd.cli.following`)."""

from __future__ import annotations

import io

from syncd.cli.following import Follower, describe


def test_a_read_that_counts_rows_says_how_many_and_one_that_does_not_says_nothing() -> None:
    assert describe({"phase": "reading", "rowsRead": 420_000}) == (
        "reading the segments: 420,000 rows"
    )
    # A scan of the file's bytes counts no rows: "0 rows" read as if nothing were read.
    assert describe({"phase": "reading", "rowsRead": 0}) == "reading the segments"


def test_a_log_gets_a_line_per_new_phase_and_one_every_few_seconds_within_one() -> None:
    now = [0.0]
    out = io.StringIO()
    follow = Follower("vip", out, every=5.0, clock=lambda: now[0])
    follow({"phase": "reading", "rowsRead": 10})
    now[0] = 1.0
    follow({"phase": "reading", "rowsRead": 20})  # too soon: no line
    follow({"phase": "sending", "sent": 5, "toSend": 10, "ratio": 0.5, "jobsOpen": 1})
    now[0] = 7.0
    follow({"phase": "sending", "sent": 10, "toSend": 10, "ratio": 1.0, "jobsOpen": 2})
    assert out.getvalue().splitlines() == [
        "vip: reading the segments: 10 rows (0s)",
        "vip: 50% sending 5 of 10 contacts · 1 job open (1s)",
        "vip: 100% sending 10 of 10 contacts · 2 jobs open (7s)",
    ]


def test_a_wait_for_sendgrids_rate_limit_is_said_with_its_end() -> None:
    progress = {"phase": "sending", "sent": 0, "toSend": 5, "jobsOpen": 0}
    held = {**progress, "rateLimitedUntil": "2026-12-01T17:40:05Z"}
    assert describe(progress) == "sending 0 of 5 contacts"
    assert describe(held) == (
        "sending 0 of 5 contacts · waiting for SendGrid's rate limit until 17:40:05 UTC"
    )
