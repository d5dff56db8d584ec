"""The corpus of bad destination files: each file's expected problems, and their generation."""

from __future__ import annotations

import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.corpus.common import DESTINATIONS, MIB, destination_text, list_id


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
    BadFile(
        "not-a-file-encoding.yaml",
        (
            "16:52: spec.segments[0].source.csv.encoding: unknown encoding 'klingon'",
            "19:52: spec.segments[1].source.csv.encoding: 'rot13' is not a character "
            "encoding of files (e.g. utf-8, latin-1)",
        ),
    ),
    BadFile(
        "never-fires.yaml",
        (
            "19:20: spec.schedule.cron: this cron expression never fires (a day that no month "
            "has, such as 30 2): name a day that comes",
            "21:22: spec.audit.schedule.cron: not a valid cron expression (five fields: minute "
            "hour day month weekday, or @hourly, @daily, @weekly, @monthly, @yearly)",
        ),
    ),
    BadFile(
        "loose-types.yaml",
        (
            "12:30: spec.consent.dataPrivacyAcknowledged: should be a valid boolean",
            "20:18: spec.limits.maxProfiles: should be a valid integer",
            "21:25: spec.limits.maxRemovalFraction: should be a valid number",
            "22:12: spec.suspend: should be a valid boolean",
        ),
    ),
    BadFile("deep.yaml", ("35:65: nested deeper than 32 levels",)),
    BadFile(
        "long-display-name.yaml",
        ("19:16: spec.displayName: should have at most 200 characters",),
        never=("a://a://",),
    ),
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
    # Every reference outside the default allowlists, each refused at its value, naming
    # the setting; nothing is read or sent (tests/security/test_01_secret_to_any_host.py).
    BadFile(
        "references.yaml",
        (
            "8:12: spec.sendgrid.apiKey.env: WAREHOUSE_DSN is not an allowed environment "
            "variable; allowed: SENDGRID_API_KEY, SENDGRID_API_KEY_* (SYNCD_SECRET_ENV)",
            "10:14: spec.sendgrid.baseUrl: http://127.0.0.1:9/v3 is not an allowed SendGrid "
            "URL; allowed: https://api.sendgrid.com (SYNCD_SENDGRID_BASE_URLS)",
            "18:17: spec.segments[0].source.postgres.dsn.file: /etc/passwd is outside the "
            "allowed secret directories: /var/run/secrets/sendgrid, /var/run/secrets/syncd "
            "(SYNCD_SECRET_DIRS)",
            "23:15: spec.segments[1].source.csv.path: /etc/hostname is outside the allowed "
            "source directories: {tree} (SYNCD_SOURCE_DIRS)",
        ),
        never=("root:x:0:0",),
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
    references = destination_text(
        "references",
        sendgrid={
            "apiKey": {"env": "WAREHOUSE_DSN"},
            "listId": list_id("references"),
            "baseUrl": "http://127.0.0.1:9/v3",
        },
        segments=[
            {
                "name": "main",
                "source": {"postgres": {"dsn": {"file": "/etc/passwd"}, "query": "1"}},
            },
            {"name": "other", "source": {"csv": {"path": "/etc/hostname"}}},
        ],
    )
    (directory / "references.yaml").write_text(references)
    # Shown on every status page and scrubbed there: 240 KB of URL beginnings once held
    # the event loop 70 s at each request.
    long_name = destination_text("long-display-name", displayName="a://" * 60_000)
    (directory / "long-display-name.yaml").write_text(long_name)
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
