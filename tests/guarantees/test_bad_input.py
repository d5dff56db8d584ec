"""The bad-input corpus (tests/corpus): every input refused, each with its own reason.

Destination files go through `syncd validate`, the way CI and the watcher see them: each
bad file gets exactly its problems (file:line:column: message), the one valid file none,
and no file's content is ever echoed. Source data goes through a real sync of one
destination per case (`syncd run --once` over all of them): either the run fails with a
message naming the file, the line, the column or the encoding, or the bad rows are
rejected with their row numbers and reasons while the good ones are sent.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import psycopg
import pytest

from syncd.emulator import Emulator, EmulatorConfig, FieldSeed, ListSeed
from syncd.ledger import open_ledger
from tests.corpus import (
    BAD_FILES,
    BAD_SOURCES,
    POSTGRES_SETUP,
    SOURCES,
    BadSource,
    destination_corpus,
    list_id,
    source_corpus,
    too_many_bytes,
    too_many_files,
)
from tests.guarantees.harness import API_KEY, Completed, harness_config, record_figure


async def syncd(*args: str, env: dict[str, str] | None = None, within: float = 60) -> Completed:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncd",
        *args,
        env={**os.environ, "SENDGRID_API_KEY": API_KEY, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )
    out, err = await asyncio.wait_for(process.communicate(), within)
    assert process.returncode is not None
    return Completed(args, process.returncode, out.decode(), err.decode(), 0.0)


async def test_every_bad_destination_file_is_refused_with_exactly_its_reasons(
    tmp_path: Path,
) -> None:
    directory = destination_corpus(tmp_path / "destinations.d")
    done = await syncd("validate", str(directory), within=30)

    found: dict[str, list[str]] = defaultdict(list)
    for line in done.out.splitlines():
        name, _, problem = line.removeprefix(f"{directory}/").partition(":")
        found[name].append(problem.lstrip(": ") if not problem[:1].isdigit() else problem)
    record_figure("corpus", destination_files=len(BAD_FILES), refused=len(found))
    assert done.code == 1
    assert done.err.strip() == f"1 file valid, {len(BAD_FILES)} invalid"
    assert "valid.yaml" not in found  # one bad file never hides a good one
    in_corpus = {p.name for p in directory.iterdir()}
    assert in_corpus == {b.name for b in BAD_FILES} | {"valid.yaml"}
    for bad in BAD_FILES:
        # The default SYNCD_SOURCE_DIRS: the directory holding the destinations directory.
        tree = str(directory.resolve().parent)
        assert found[bad.name] == [p.replace("{tree}", tree) for p in bad.problems], bad.name
        for text in bad.never:
            assert text not in done.text, (bad.name, text)


async def test_a_fifo_named_on_the_command_line_is_refused_without_blocking(
    tmp_path: Path,
) -> None:
    fifo = destination_corpus(tmp_path / "d") / "fifo.yaml"
    done = await syncd("validate", str(fifo), within=10)
    assert done.code == 1
    assert done.out.strip() == f"{fifo}: not a regular file (a FIFO); refused"


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (too_many_files, "501 destination files, more than the limit of 500"),
        (too_many_bytes, "more than the limit of 1 MiB a directory; nothing loaded"),
    ],
    ids=["501 files", "over 1 MiB"],
)
async def test_a_directory_over_its_limits_is_refused_whole(
    tmp_path: Path, make: object, problem: str
) -> None:
    assert callable(make)
    directory = make(tmp_path / "destinations.d")
    done = await syncd("validate", str(directory), within=30)
    assert done.code == 1
    assert done.out.startswith(f"{directory}: ")
    assert problem in done.out
    assert len(done.out.splitlines()) == 1


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    lists = [ListSeed(id=list_id(bad.name), name=bad.name) for bad in BAD_SOURCES]
    fields = [
        FieldSeed(name="loyalty_tier", field_type="Text"),
        FieldSeed(name="orders", field_type="Number"),
        FieldSeed(name="joined", field_type="Date"),
    ]
    return harness_config(lists=lists, custom_fields=fields)


async def check_sources(
    cases: Sequence[BadSource], tmp_path: Path, emulator: Emulator, **extra_env: str
) -> tuple[dict[str, str], Completed]:
    """One `syncd run --once` over a destination per case, then each case's outcome.

    Cases with `synced_first` have their clean source synced by a run before: the run
    under test must then leave its members where they were. Returns the environment
    and the output of the run under test.
    """
    destinations = tmp_path / "destinations.d"
    destinations.mkdir()
    for bad in cases:
        (destinations / f"{bad.name}.yaml").write_text(bad.text())
    shutil.copytree(SOURCES, tmp_path / "sources")
    data = source_corpus(tmp_path / "data")
    state = tmp_path / "state.db"
    env = {
        "SYNCD_DESTINATIONS": str(destinations),
        "SYNCD_STATE": str(state),
        "SYNCD_SENDGRID_BASE_URL": emulator.url,
        "SYNCD_LOG_FORMAT": "json",
        "SYNCD_JOB_POLL_MAX_INTERVAL": "0.1",
        **extra_env,
    }
    await sync_clean_sources_first([b for b in cases if b.synced_first], data, env)
    done = await syncd("run", "--once", env=env, within=120)
    assert done.code == 1  # some destinations failed, as they must
    assert "config.problem" not in done.err  # every destination file itself was valid

    ledger = open_ledger(str(state), writer=False)
    try:
        for bad in cases:
            (run,) = ledger.runs(bad.name, 1)
            members = emulator.state.list_members(list_id(bad.name))
            assert (bad.name, run.outcome) == (bad.name, bad.outcome), run.error
            assert (bad.name, len(members)) == (bad.name, bad.sent)
            assert set(bad.members) <= members, (bad.name, bad.members)
            for text in bad.error:
                assert text in (run.error or ""), (bad.name, run.error)
            for text in bad.never:
                assert text not in (run.error or ""), (bad.name, run.error)
            rejections = ledger.rejections(run.id, limit=20_000)
            if bad.reported is not None:
                assert run.counts["rejected"] == bad.reported
                assert len(rejections) == min(bad.reported, 10_000)
                assert {r.reason for r in rejections} == {"email is not a valid address: no @"}
            elif not bad.error:
                got = [(r.row, r.reason) for r in rejections]
                assert [row for row, _ in got] == [row for row, _ in bad.rejected], bad.name
                assert got == list(bad.rejected), bad.name
    finally:
        ledger.close()
    return env, done


async def sync_clean_sources_first(
    cases: Sequence[BadSource], data: Path, env: dict[str, str]
) -> None:
    if not cases:
        return
    first = Path(env["SYNCD_DESTINATIONS"]).with_name("clean.d")
    first.mkdir()
    broken: dict[Path, bytes] = {}
    for bad in cases:
        (first / f"{bad.name}.yaml").write_text(bad.text())
        options = next(iter(bad.source.values()))
        assert isinstance(options, dict)
        assert bad.synced_first
        live = data / Path(options["path"]).name
        broken[live] = live.read_bytes()
        live.write_bytes((data / bad.synced_first).read_bytes())
    done = await syncd("run", "--once", env={**env, "SYNCD_DESTINATIONS": str(first)})
    assert done.code == 0, done.text
    for live, content in broken.items():
        live.write_bytes(content)


@pytest.mark.slow
async def test_every_bad_source_fails_with_its_reason_or_has_its_rows_rejected(
    tmp_path: Path, emulator: Emulator
) -> None:
    cases = [b for b in BAD_SOURCES if not b.postgres]
    env, done = await check_sources(cases, tmp_path, emulator)
    record_figure(
        "corpus",
        sources=len(cases),
        invalid_rows_reported=next(b.reported for b in cases if b.reported),
    )

    shown = await syncd("status", "ten-thousand-invalid", "--rejections", env=env)
    assert len(shown.out.splitlines()) == 10_000
    assert "main row 2: email is not a valid address: no @" in shown.out
    assert "main row 10001: email is not a valid address: no @" in shown.out
    for output in (done, shown):
        assert "@example.com" not in output.text
        assert "not-an-address" not in output.text


@pytest.mark.postgres
async def test_every_bad_postgres_source_fails_with_its_reason_and_changes_nothing(
    tmp_path: Path, emulator: Emulator, postgres_dsn: str
) -> None:
    with psycopg.connect(postgres_dsn, autocommit=True) as db:
        db.execute(POSTGRES_SETUP.encode())
    cases = [b for b in BAD_SOURCES if b.postgres]
    await check_sources(
        cases,
        tmp_path,
        emulator,
        CORPUS_POSTGRES_DSN=postgres_dsn,
        SYNCD_SECRET_ENV="SENDGRID_API_KEY,CORPUS_POSTGRES_DSN",  # the operator allows the DSN
    )
    with psycopg.connect(postgres_dsn) as db:
        assert db.execute(b"SELECT count(*) FROM people").fetchone() == (1,)
