"""Where a sync's wall time goes, from a `py-spy record --idle --threads --format raw` profile.

Every sample of every thread is put in one stage of the run (the innermost frame
that names one wins). Samples of a thread waiting for work (the event loop in
`select`, a pool thread waiting for a job) are idle; a thread blocked inside the
database driver is *not* idle: the time is the query's and counts for its stage.
The main thread is sampled for the whole run, so its samples are the run's ticks;
ticks in which no thread was busy are time spent waiting on the network: the
emulator answering, or a pause between two polls of a job.

    python -m bench.profiling PROFILE.txt [PROFILE.txt ...]

(`python -m bench --profile` records one profile per sync under bench/results/profiles/;
it needs `py-spy` on PATH.)
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

RATE = 100  # samples per second, as recorded by bench.syncing.run_sync

# (stage, frame markers), tried from the innermost frame outwards.
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("encode: email syntax (email_validator)", ("validate_email (",)),
    ("encode: SendGrid payload", ("Outgoing.encode (",)),
    (
        "build contacts (normalise, orjson, xxhash)",
        ("ContactBuilder.build", "fingerprint (", "build_stale", "SqlSession.record_builds"),
    ),
    (
        "key rows (email, raw fingerprint)",
        ("ContactBuilder.key (", "ContactBuilder.raw_print (", "ContactBuilder.raw_encoded ("),
    ),
    ("spill: the verify read's rows kept, read back", ("Spill.",)),
    (
        "match: the differing buckets' prints, both sides",
        ("acked_raws_within", "_matched (", "match (", "scanned_prints", "by_group"),
    ),
    ("scope: the contacts no row matched (SQL)", ("scope_snapshot", "declare_differing")),
    ("scan: plain CSV lines hashed from their bytes", ("scan_segments", "Scan.prints")),
    ("differing rows picked from the lines", ("Scan.lines_in", "scanned_rows")),
    ("bucket sums of the ledger (SQL, another thread)", ("acked_raw_buckets",)),
    ("files' prints (xxh3 of the bytes)", ("files_print", "content_print")),
    ("read + parse CSV", ("CsvFile.rows", "CsvFile._records", "CsvFile.printed_rows")),
    ("verify: count and sum (no staging)", ("verify_segments",)),
    (
        "stage: write the snapshot",
        (
            "Session.stage (",
            "Session.stage.",
            "reset_snapshot (",
            "finalize_snapshot",
            "staged_distinct",
            "refresh_flags",
        ),
    ),
    ("find stale rows (SQL)", ("SqlSession.stale", "SqlSession.mark_rebind")),
    ("diff counts (SQL)", ("SqlSession.diff",)),
    ("to-send query (SQL)", ("SqlSession.to_send",)),
    (
        "gone / leavers / exhausted queries (SQL)",
        ("SqlSession.gone", "SqlSession.exhausted", "LeaverState."),
    ),
    (
        "outbox + acks (SQL)",
        (
            "OutboxState.",
            "SqlSession.prepare",
            "SqlSession.bodies",
            "SqlSession.emails",
            "SqlSession.submitted",
            "SqlSession.complete",
            "SqlSession.give_up",
            "SqlSession.forget",
        ),
    ),
    ("staging loop (rows → chunks)", ("stage_segments", "_keyed_rows", "stage_differing")),
    ("HTTP client (aiohttp, JSON)", ("SendGridHttp.", "aiohttp/", "SendGridClient.")),
    ("pack batches", ("Applier.send_upserts", "upsert_body (", "Batcher.", "send_first_export")),
    (
        "run bookkeeping (SQL)",
        (
            "SqlSession._claim",
            "SqlSession.field_generation",
            "SqlSession.begin_run",
            "SqlSession.finish_run",
            "SqlSession.record_rejections",
            "SqlSession.open_batches",
            "SqliteLedger",
            "PostgresLedger",
            "_session (",
            "Reconciler._finish",
        ),
    ),
    (
        "start-up: imports, settings, loading",
        ("_find_and_load", "load_directory (", "settings_from (", "build_parser ("),
    ),
)
IDLE = (
    "select (selectors.py",
    "_worker (concurrent/futures/thread.py",
    "wait (threading.py",
    "_wait_for_tstate_lock (threading.py",
)
WAITING = "waiting on the network (emulator, job polls)"


def stage_of(frames: list[str]) -> str | None:
    """The stage of one stack (innermost frame last), or None when the thread is idle."""
    if frames and any(marker in frames[-1] for marker in IDLE):
        return None
    for frame in reversed(frames):
        for stage, markers in STAGES:
            if any(marker in frame for marker in markers):
                return stage
    return "other"


def breakdown(path: Path) -> dict[str, float]:
    """Seconds per stage (plus WAITING) over the run."""
    busy: Counter[str] = Counter()
    ticks = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        thread, *frames = stack.split(";")
        if "MainThread" in thread or (frames and "_run_module_as_main" in frames[0]):
            ticks += count
        stage = stage_of(frames)
        if stage is not None:
            busy[stage] += count
    seconds = {stage: n / RATE for stage, n in busy.most_common()}
    seconds[WAITING] = max(0, ticks - sum(busy.values())) / RATE
    seconds["total (main thread ticks)"] = ticks / RATE
    return seconds


def render(path: Path) -> str:
    figures = breakdown(path)
    total = figures.pop("total (main thread ticks)") or 1.0
    lines = [f"{path.name}: {total:.1f}s sampled"]
    for stage, seconds in sorted(figures.items(), key=lambda item: -item[1]):
        if seconds >= 0.01:
            lines.append(f"  {seconds:8.2f}s  {100 * seconds / total:5.1f}%  {stage}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Summarise py-spy raw profiles of syncd runs")
    parser.add_argument("profiles", type=Path, nargs="+")
    args = parser.parse_args()
    for path in args.profiles:
        print(render(path))


if __name__ == "__main__":
    main()
