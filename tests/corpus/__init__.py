"""The bad-input corpus: destination files and source data syncd must refuse, with the
reason it must give for each.

Text cases are files beside this module (`destinations/`, `sources/`); what cannot live
in git, or should not (binary data, files of megabytes, FIFOs, symlinks, 10,000 rows),
is made by `destination_corpus()` and `source_corpus()` in a temporary directory.
"""

from __future__ import annotations

import os
import random
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).parent
DESTINATIONS = HERE / "destinations"
SOURCES = HERE / "sources"
MIB = 1024 * 1024


def list_id(name: str) -> str:
    """A stable list id per corpus case (one list, one owner)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"syncd-corpus:{name}"))


def destination_text(name: str, *, list_key: str | None = None, **spec: object) -> str:
    document = {
        "apiVersion": "syncd/v1",
        "kind": "SendGridDestination",
        "metadata": {"name": name},
        "spec": {
            "sendgrid": {
                "apiKey": {"env": "SENDGRID_API_KEY"},
                "listId": list_id(list_key or name),
            },
            "consent": {"dataPrivacyAcknowledged": True},
            "segments": [{"name": "main", "source": {"csv": {"path": "a.csv"}}}],
            "mapping": {"email": "Email"},
            **spec,
        },
    }
    return yaml.safe_dump(document, sort_keys=False)


# -- destination files ------------------------------------------------------------------------


@dataclass(frozen=True)
class BadFile:
    """A destination file and exactly the problems `syncd validate` reports for it (each
    `line:column: message`, or `message` for the file as a whole); `never`: texts that
    must not appear anywhere in the output (file contents, a key)."""

    name: str
    problems: tuple[str, ...]
    never: tuple[str, ...] = ()


SHARED = list_id("shared")
BAD_FILES = (
    BadFile("malformed.yaml", ("7:3: YAML syntax error: did not find expected ',' or '}'",)),
    BadFile(
        "tab-indent.yaml", ("4:1: YAML syntax error: found character that cannot start any token",)
    ),
    BadFile("alias.yaml", ("12:7: YAML anchors and aliases are not allowed",)),
    BadFile("alias-bomb.yaml", ("2:4: YAML anchors and aliases are not allowed",)),
    BadFile("merge-key.yaml", ("6:3: YAML merge keys (<<) are not allowed",)),
    BadFile("duplicate-key.yaml", ("10:5: duplicate key 'listId' (first at line 9)",)),
    BadFile("two-documents.yaml", ("3:1: expected one YAML document, found a second one",)),
    BadFile("empty.yaml", ("the file is empty: expected one YAML document",)),
    BadFile(
        "list-root.yaml", ("1:1: the document must be a mapping (apiVersion: ...), not a list",)
    ),
    BadFile(
        "python-tag.yaml",
        ("1:13: YAML tags other than the standard types are not allowed",),
        never=("owned", "os.system"),
    ),
    BadFile(
        "inline-key.yaml",
        (
            "7:13: spec.sendgrid.apiKey: inline secrets are refused: put the value in an "
            "environment variable or a mounted file and write {env: NAME} or {file: PATH}",
        ),
        never=("InlineKeyMustNeverEcho", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"),
    ),
    BadFile(
        "unknown-key.yaml",
        (
            "6:3: spec.sendgrid.listId: required field is missing",
            "8:5: spec.sendgrid.listID: unknown key (allowed: apiKey, listId, baseUrl)",
        ),
        never=("77777777",),
    ),
    BadFile("non-text-key.yaml", ("3:1: keys must be text, not an integer (quote the key)",)),
    BadFile(
        "bad-values.yaml",
        (
            "1:13: apiVersion: should be 'syncd/v1'",
            "4:9: metadata.name: should be a lowercase name of at most 63 characters: a-z, 0-9 "
            "and '-', starting and ending with a letter or digit",
            "8:13: spec.sendgrid.listId: should be the id of a SendGrid list, a UUID such as "
            "7f3c2a9e-1b4d-4c8e-9a52-3e6f0b1d2c4a",
            "18:15: spec.schedule.interval: expected a duration such as 90s, 15m, 1h30m or 1d",
            "20:25: spec.limits.maxRemovalFraction: should be less than or equal to 1",
        ),
        never=("not-a-uuid", "soon", "Bad_Name"),
    ),
    BadFile("deep.yaml", ("35:65: nested deeper than 32 levels",)),
    BadFile(
        "latin1.yaml",
        ("6:20: not valid UTF-8 text (invalid trailing UTF-8 octet)",),
        never=("Caf",),
    ),
    # made by destination_corpus():
    BadFile("binary.yaml", ("1:2: not valid UTF-8 text (invalid leading UTF-8 octet)",)),
    BadFile("huge.yaml", ("2 MiB, more than the limit of 256 KiB a file; refused before parsing",)),
    BadFile(
        "just-over.yaml",
        ("256.0 KiB, more than the limit of 256 KiB a file; refused before parsing",),
    ),
    BadFile("fifo.yaml", ("not a regular file (a FIFO); refused",)),
    BadFile("directory.yaml", ("not a regular file (a directory); refused",)),
    BadFile(
        "escape.yaml",
        ("symlink points outside the destinations directory; refused",),
        never=("escaped",),
    ),
    BadFile(
        "environ.yaml",
        ("symlink points outside the destinations directory; refused",),
        never=("SENDGRID_API_KEY=", "PATH="),
    ),
    BadFile(
        "broken-link.yaml",
        ("broken symlink: its target does not exist",),
        never=("missing-target",),
    ),
    BadFile("loop.yaml", ("cannot be resolved: symlink loop",)),
    BadFile(
        "owner-a.yaml",
        (
            f"9:13: spec.sendgrid.listId: list {SHARED} is also targeted by owner-b.yaml; "
            "one list has one owner",
        ),
    ),
    BadFile(
        "owner-b.yaml",
        (
            f"9:13: spec.sendgrid.listId: list {SHARED} is also targeted by owner-a.yaml; "
            "one list has one owner",
        ),
    ),
    BadFile(
        "name-a.yaml",
        (
            "4:9: metadata.name: destination name 'same-name' is also used by name-b.yaml; "
            "names must be unique",
        ),
    ),
    BadFile(
        "name-b.yaml",
        (
            "4:9: metadata.name: destination name 'same-name' is also used by name-a.yaml; "
            "names must be unique",
        ),
    ),
)


def destination_corpus(directory: Path) -> Path:
    """The whole destination corpus in `directory` (created), with `valid.yaml` the one
    file that must pass. Returns the directory."""
    directory.mkdir(parents=True)
    for source in DESTINATIONS.iterdir():
        shutil.copyfile(source, directory / source.name)
    rng = random.Random(8)
    (directory / "binary.yaml").write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    (directory / "huge.yaml").write_bytes((b"# padding " + b"x" * 53 + b"\n") * (2 * MIB // 64))
    (directory / "just-over.yaml").write_bytes(b"#" * (256 * 1024 + 1))
    os.mkfifo(directory / "fifo.yaml")
    (directory / "directory.yaml").mkdir()
    outside = directory.parent / f"{directory.name}-outside"
    outside.mkdir()
    (outside / "escaped.yaml").write_text(destination_text("escaped"))
    (directory / "escape.yaml").symlink_to(Path("..") / outside.name / "escaped.yaml")
    (directory / "environ.yaml").symlink_to("/proc/self/environ")
    (directory / "broken-link.yaml").symlink_to("missing-target.yaml")
    (directory / "loop.yaml").symlink_to("loop.yaml")
    (directory / "owner-a.yaml").write_text(destination_text("owner-a", list_key="shared"))
    (directory / "owner-b.yaml").write_text(destination_text("owner-b", list_key="shared"))
    (directory / "name-a.yaml").write_text(destination_text("same-name", list_key="name-a"))
    (directory / "name-b.yaml").write_text(destination_text("same-name", list_key="name-b"))
    return directory


def too_many_files(directory: Path) -> Path:
    directory.mkdir(parents=True)
    for n in range(501):
        (directory / f"d{n:03d}.yaml").write_text(destination_text(f"d{n:03d}"))
    return directory


def too_many_bytes(directory: Path) -> Path:
    directory.mkdir(parents=True)
    for n in range(5):
        padding = "#" * 79 + "\n"
        (directory / f"d{n}.yaml").write_text(destination_text(f"d{n}") + padding * 3000)
    return directory


# -- source data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BadSource:
    """One destination over a bad source, and what its run must report.

    Either the run fails with `error` (every text in it), or it succeeds with exactly the
    `rejected` (row, reason-part) pairs, `sent` contacts reaching SendGrid and `reported`
    rejections counted (rejection rows kept: at most 10,000 a run).
    """

    name: str
    source: dict[str, object]
    error: tuple[str, ...] = ()
    outcome: str = "success"
    rejected: tuple[tuple[int, str], ...] = ()
    sent: int = 0
    reported: int | None = None
    mapping: dict[str, object] = field(default_factory=lambda: {"email": "Email"})

    def text(self) -> str:
        return destination_text(
            self.name, mapping=self.mapping, segments=[{"name": "main", "source": self.source}]
        )


def csv(path: str, **options: object) -> dict[str, object]:
    return {"csv": {"path": path, **options}}


FULL_MAPPING: dict[str, object] = {
    "email": "Email",
    "first_name": "FirstName",
    "custom_fields": {"orders": "Orders"},
}

BAD_SOURCES = (
    BadSource(
        "missing-column",
        csv("../sources/missing-column.csv"),
        error=(
            "csv missing-column.csv: column(s) Orders not found; the source has: Email, FirstName",
        ),
        outcome="permanent",
        mapping=FULL_MAPPING,
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
            (4, "custom field orders (Number): value is not a valid Number"),
            (5, "email is empty"),
        ),
        sent=2,
        mapping=FULL_MAPPING,
    ),
    BadSource(
        "huge-field",
        csv("../data/huge-field.csv"),
        error=(
            "csv huge-field.csv: line 2: field larger than field limit (1048576); "
            "is it a CSV file?",
        ),
        outcome="permanent",
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
        {"sqlite": {"path": "../data/people.db", "query": "DELETE FROM people"}},
        error=("sqlite people.db: the query failed: attempt to write a readonly database",),
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
    (data / "huge-field.csv").write_text("Email\n" + "x" * (MIB + 10) + "@example.com\n")
    os.mkfifo(data / "fifo.csv")
    _invalid_rows(data / "ten-thousand-invalid.csv", invalid=10_000, valid=50)
    _invalid_rows(data / "twelve-thousand-invalid.csv", invalid=12_000, valid=10)
    with sqlite3.connect(data / "people.db") as db:
        db.execute("CREATE TABLE people (Email TEXT)")
        db.execute("INSERT INTO people VALUES ('corpus.sqlite@example.com')")
    db.close()
    return data


def _invalid_rows(path: Path, *, invalid: int, valid: int) -> None:
    rows = ["Email"]
    rows += [f"not-an-address-{n}" for n in range(invalid)]
    rows += [f"corpus.valid.{n}@example.com" for n in range(valid)]
    path.write_text("\n".join(rows) + "\n")
