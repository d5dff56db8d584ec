"""The corpus of bad source data: each case's expected run outcome, and its generation."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from tests.corpus.common import MIB, destination_text


@dataclass(frozen=True)
class BadSource:
    """One destination over a bad source, and what its run must report.

    Either the run fails with `error` (every text in it), or it succeeds with exactly the
    `rejected` (row, reason-part) pairs, `sent` contacts reaching SendGrid (`members`
    among them, as SendGrid stores their addresses) and `reported` rejections counted
    (rejection rows kept: at most 10,000 a run). No text of `never` may appear in the
    run's error. With `synced_first`, that file of the generated data (the clean
    version of the source) is synced first: `sent` then counts the members the failed
    run left on the list.
    """

    name: str
    source: dict[str, object]
    error: tuple[str, ...] = ()
    outcome: str = "success"
    rejected: tuple[tuple[int, str], ...] = ()
    sent: int = 0
    reported: int | None = None
    mapping: dict[str, object] = field(default_factory=lambda: {"email": "Email"})
    members: tuple[str, ...] = ()
    never: tuple[str, ...] = ()
    synced_first: str | None = None

    @property
    def postgres(self) -> bool:
        return "postgres" in self.source

    def text(self) -> str:
        return destination_text(
            self.name, mapping=self.mapping, segments=[{"name": "main", "source": self.source}]
        )


def csv(path: str, **options: object) -> dict[str, object]:
    return {"csv": {"path": path, **options}}


def sqlite(query: str, **options: object) -> dict[str, object]:
    return {"sqlite": {"path": "../data/people.db", "query": query, **options}}


STRAY_QUOTE_ROWS = 2000
STRAY_QUOTE_AT = 1700  # the data row (line 1,701) whose quote is never closed
ENDLESS = (
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) "
    "SELECT x AS Email FROM n WHERE x < 0"
)
POSTGRES_SETUP = "CREATE TABLE people AS SELECT 'corpus.pg@example.com'::text AS \"Email\""


FULL_MAPPING: dict[str, object] = {
    "email": "Email",
    "first_name": "FirstName",
    "custom_fields": {"orders": "Orders"},
}
TYPED_MAPPING: dict[str, object] = {
    "email": "Email",
    "first_name": "FirstName",
    "custom_fields": {"orders": "Orders", "joined": "Joined"},
}
NOT_A_NUMBER = (
    "the value is not a number; write ASCII digits with an optional sign, decimal point and "
    "exponent (e.g. -12, 4.5, 1e3)"
)
NOT_SENT = "syncd does not send control characters: remove it from the source"

BAD_SOURCES = (
    BadSource(
        "missing-column",
        csv("../sources/missing-column.csv"),
        error=(
            "csv missing-column.csv: column 'Orders' not found among the source's 2 columns "
            "(names must match exactly); fix spec.mapping or the source",
        ),
        outcome="permanent",
        mapping=FULL_MAPPING,
        never=("Email, FirstName",),  # the header is never listed: it may be data
    ),
    BadSource(
        "latin1-as-utf8",
        csv("../sources/latin1.csv"),
        error=(
            "csv latin1.csv: line 3 is not valid utf-8; set source.csv.encoding (e.g. latin-1)",
        ),
        outcome="permanent",
        mapping=FULL_MAPPING,
    ),
    BadSource(
        "latin1-declared",
        csv("../sources/latin1.csv", encoding="latin-1"),
        sent=3,
        mapping=FULL_MAPPING,
    ),
    BadSource(
        "unknown-encoding",
        csv("../sources/latin1.csv", encoding="klingon"),
        error=("csv latin1.csv: unknown encoding 'klingon'",),
        outcome="permanent",
    ),
    BadSource(
        "nul-byte",
        csv("../sources/nul.csv"),
        rejected=(
            (
                3,
                "email is not a valid address: The email address contains invalid characters "
                "before the @-sign: U+0000.",
            ),
        ),
        sent=1,
    ),
    BadSource(
        "binary",
        csv("../data/binary.csv"),
        error=("csv binary.csv: line 1 is not valid utf-8",),
        outcome="permanent",
    ),
    BadSource(
        "invalid-emails",
        csv("../sources/invalid-emails.csv"),
        rejected=(
            (2, "email is empty"),
            (3, "email is not a valid address: no @"),
            (
                4,
                "email is not a valid address: The part after the @-sign contains invalid "
                "characters: '@'.",
            ),
            (
                5,
                "email is not a valid address: The part after the @-sign is not valid. It "
                "should have a period.",
            ),
            (
                6,
                "email is not a valid address: The email address contains invalid characters "
                "before the @-sign: SPACE.",
            ),
            (7, "email is longer than 254 characters"),
            (
                8,
                "email is not a valid address: Quoting the part before the @-sign is not "
                "allowed here.",
            ),
            (
                9,
                "email is not a valid address: A bracketed IP address after the @-sign is not "
                "allowed here.",
            ),
        ),
        sent=2,
        mapping=FULL_MAPPING,
    ),
    BadSource(
        "bad-values",
        csv("../sources/bad-values.csv"),
        rejected=(
            (3, "first_name is longer than 50 characters (80)"),
            (
                4,
                f"custom field orders (Number): {NOT_A_NUMBER}",
            ),
            (5, "email is empty"),
        ),
        sent=2,
        mapping=FULL_MAPPING,
    ),
    BadSource(
        "typed-values",
        csv("../sources/typed-values.csv"),
        rejected=(
            (
                3,
                "custom field orders (Number): the value is beyond ±2^53 "
                "(9,007,199,254,740,992), the largest integer a double holds exactly: "
                "SendGrid could not store it as written",
            ),
            (4, f"custom field orders (Number): {NOT_A_NUMBER}"),  # 1_000
            (5, f"custom field orders (Number): {NOT_A_NUMBER}"),  # Arabic-Indic 123
            (
                6,
                "custom field joined (Date): the value is not a date; use YYYY-MM-DD, an ISO "
                "8601 date-time or MM/DD/YYYY (there is no such day)",  # 02/30/2024
            ),
        ),
        sent=3,
        mapping=TYPED_MAPPING,
    ),
    BadSource(
        "unsafe-text",
        csv("../sources/unsafe-text.csv"),
        rejected=(
            (3, f"first_name contains a control character U+0000; {NOT_SENT}"),
            (4, f"first_name contains a control character U+001B; {NOT_SENT}"),
            (
                5,
                "email is not a valid address: U+212A would become an ASCII letter when "
                "lower-cased, which makes it another address",
            ),
        ),
        sent=2,
        mapping={"email": "Email", "first_name": "FirstName"},
        members=("corpus.text.1@example.com", "corpus.idn@xn--bcher-kva.ch"),
    ),
    BadSource(
        "huge-field",
        csv("../data/huge-field.csv"),
        error=(
            "csv huge-field.csv: the row starting on line 2 has a field longer than the "
            "limit of 1048576 characters",
        ),
        outcome="permanent",
    ),
    BadSource(
        "long-line-csv",
        csv("../data/long-line.csv"),
        error=("csv long-line.csv: line 3 is longer than the limit of 1 MiB",),
        outcome="permanent",
    ),
    BadSource(
        "long-line-jsonl",
        {"jsonl": {"path": "../data/long-line.jsonl"}},
        error=("jsonl long-line.jsonl: line 3 is longer than the limit of 1 MiB",),
        outcome="permanent",
    ),
    BadSource(
        "stray-quote",
        csv("../data/stray-quote.csv"),
        error=(
            f"csv stray-quote.csv: the row starting on line {STRAY_QUOTE_AT + 1} opens a "
            "quoted field that is never closed",
        ),
        outcome="permanent",
        sent=STRAY_QUOTE_ROWS,  # all still there: the broken file removed nobody
        synced_first="stray-quote.clean.csv",
    ),
    BadSource(
        "duplicate-columns",
        csv("../sources/duplicate-columns.csv"),
        error=(
            "csv duplicate-columns.csv: column 'Email' appears 2 times (columns 1 and 3); "
            "which one is meant is ambiguous",
        ),
        outcome="permanent",
        never=("corpus.dup",),
    ),
    BadSource(
        "duplicate-keys",
        {"jsonl": {"path": "../sources/duplicate-keys.jsonl"}},
        rejected=(
            (2, "key 'Email' appears more than once; which value is meant is ambiguous"),
            (3, "key 'Email' appears more than once; which value is meant is ambiguous"),
        ),
        sent=2,
    ),
    BadSource(
        "secret-as-source",
        csv("../sources/secret.csv"),
        error=(
            "csv secret.csv: column 'Email' not found among the source's 1 column "
            "(names must match exactly); fix spec.mapping or the source",
        ),
        outcome="permanent",
        never=("SG.", "xxxxx", "yyyyy"),
    ),
    BadSource(
        "fifo",
        csv("../data/fifo.csv"),
        error=("csv fifo.csv:", "is not a regular file"),
        outcome="temporary",
    ),
    BadSource(
        "directory",
        csv("../data"),
        error=("csv data:", "is not a regular file"),
        outcome="temporary",
    ),
    BadSource(
        "missing-file",
        csv("../data/nowhere.csv"),
        error=("csv nowhere.csv:", "does not exist"),
        outcome="temporary",
    ),
    BadSource(
        "bad-jsonl",
        {"jsonl": {"path": "../sources/bad.jsonl"}},
        rejected=(
            (2, "not valid JSON"),
            (3, "not a JSON object"),
            (4, "not a JSON object"),
            (5, "a mapped value is an object or array, not a scalar"),
        ),
        sent=2,
    ),
    BadSource(
        "latin1-jsonl",
        {"jsonl": {"path": "../sources/latin1.jsonl"}},
        error=("jsonl latin1.jsonl: line 2 is not valid UTF-8",),
        outcome="permanent",
    ),
    BadSource(
        "not-a-database",
        {"sqlite": {"path": "../sources/invalid-emails.csv", "query": "SELECT * FROM people"}},
        error=("sqlite invalid-emails.csv: the query failed: file is not a database",),
        outcome="permanent",
    ),
    BadSource(
        "missing-table",
        {"sqlite": {"path": "../data/people.db", "query": "SELECT * FROM nobody"}},
        error=("sqlite people.db: the query failed: no such table: nobody",),
        outcome="permanent",
    ),
    BadSource(
        "writing-query",
        sqlite("DELETE FROM people"),
        error=("sqlite people.db: the query may only read: DELETE is refused",),
        outcome="permanent",
    ),
    BadSource(
        "attach-query",
        sqlite("ATTACH DATABASE 'corpus-attached.db' AS elsewhere"),
        error=("sqlite people.db: the query may only read: ATTACH is refused",),
        outcome="permanent",
    ),
    BadSource(
        "vacuum-into-query",
        sqlite("VACUUM INTO 'corpus-copy.db'"),
        error=("sqlite people.db: the query may only read: VACUUM is refused",),
        outcome="permanent",
    ),
    BadSource(
        "endless-query",
        sqlite(ENDLESS, statementTimeout="1s"),
        error=("sqlite people.db: the query ran longer than statementTimeout (1s)",),
        outcome="temporary",
    ),
    BadSource(
        "writable-cte",
        {
            "postgres": {
                "dsn": {"env": "CORPUS_POSTGRES_DSN"},
                "query": 'WITH gone AS (DELETE FROM people RETURNING "Email") SELECT * FROM gone',
            }
        },
        error=(
            "postgres segment main: DECLARE CURSOR must not contain data-modifying statements "
            "in WITH",
        ),
        outcome="permanent",
    ),
    BadSource(
        "ten-thousand-invalid",
        csv("../data/ten-thousand-invalid.csv"),
        sent=50,
        reported=10_000,
    ),
    BadSource(
        "over-ten-thousand-invalid",
        csv("../data/twelve-thousand-invalid.csv"),
        sent=10,
        reported=12_000,
    ),
)


def source_corpus(data: Path) -> Path:
    """The generated source files, in `data` (created)."""
    import sqlite3

    data.mkdir(parents=True, exist_ok=True)
    rng = random.Random(9)
    (data / "binary.csv").write_bytes(
        b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(2048))
    )
    # A quoted field of short lines: over the field limit, never over the line limit.
    field = "\n".join(["x" * 1000] * (MIB // 1000 + 1))
    (data / "huge-field.csv").write_text(f'Email\n"{field}@example.com"\n')
    long_line = "x" * (MIB + 1)
    (data / "long-line.csv").write_text(f"Email\ncorpus.ok@example.com\n{long_line}\n")
    (data / "long-line.jsonl").write_text(
        '{"Email": "corpus.ok@example.com"}\n' * 2 + f'{{"Email": "{long_line}"}}\n'
    )
    stray_quote(data)
    os.mkfifo(data / "fifo.csv")
    _invalid_rows(data / "ten-thousand-invalid.csv", invalid=10_000, valid=50)
    _invalid_rows(data / "twelve-thousand-invalid.csv", invalid=12_000, valid=10)
    with sqlite3.connect(data / "people.db") as db:
        db.execute("CREATE TABLE people (Email TEXT)")
        db.execute("INSERT INTO people VALUES ('corpus.sqlite@example.com')")
    db.close()
    return data


def stray_quote(data: Path) -> tuple[Path, Path]:
    """The source as synced (`stray-quote.clean.csv`), and the same broken by one unclosed
    quote at data row `STRAY_QUOTE_AT` (`stray-quote.csv`): (clean, broken)."""
    lines = ["Email,FirstName"]
    lines += [f"corpus.quote.{n}@example.com,Person{n}" for n in range(1, STRAY_QUOTE_ROWS + 1)]
    (data / "stray-quote.clean.csv").write_text("\n".join(lines) + "\n")
    lines[STRAY_QUOTE_AT] = lines[STRAY_QUOTE_AT].replace(",", ',"', 1)
    (data / "stray-quote.csv").write_text("\n".join(lines) + "\n")
    return data / "stray-quote.clean.csv", data / "stray-quote.csv"


def _invalid_rows(path: Path, *, invalid: int, valid: int) -> None:
    rows = ["Email"]
    rows += [f"not-an-address-{n}" for n in range(invalid)]
    rows += [f"corpus.valid.{n}@example.com" for n in range(valid)]
    path.write_text("\n".join(rows) + "\n")
