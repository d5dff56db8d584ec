"""`syncd validate`: every problem of every file in one go, with its file and line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from syncd.cli import main
from tests.loading.examples import VALID, changed, destination, line_of, other_list, write

INLINE_KEY = "SG.canary-inline-key.do-not-print-me"
SHARED_LIST = "11111111-2222-4333-8444-555555555555"
BOMB = """\
apiVersion: syncd/v1
lol: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
lol2: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
lol3: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
lol4: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
lol5: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
lol6: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
lol7: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
lol8: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
"""


def acceptance_directory(directory: Path) -> dict[str, int]:
    """The acceptance scenario's files; returns each bad file's expected line."""
    files = {
        "syntax.yaml": destination("syntax", other_list(1)).replace(
            "  consent:", "  consent: [unclosed\n  consent:"
        ),
        "unknown.yaml": changed(
            "  onLeave:", "  bogus: 1\n  onLeave:", destination("unknown", other_list(2))
        ),
        "no-email.yaml": changed(
            "    email: EmailAddress\n", "", destination("no-email", other_list(3))
        ),
        "inline-key.yaml": changed(
            "apiKey: {env: SENDGRID_API_KEY}",
            f"apiKey: {INLINE_KEY}",
            destination("inline-key", other_list(4)),
        ),
        "duplicate.yaml": changed(
            "    listId:",
            f"    listId: {other_list(5)}\n    listId:",
            destination("duplicate", other_list(6)),
        ),
        "bomb.yaml": BOMB,
        "owner-a.yaml": destination("owner-a", SHARED_LIST),
        "owner-b.yaml": destination("owner-b", SHARED_LIST),
        "valid.yaml": VALID,
    }
    for name, text in files.items():
        write(directory, name, text)
    return {
        "bomb.yaml": 2,
        "duplicate.yaml": line_of(files["duplicate.yaml"], "listId") + 1,
        "inline-key.yaml": line_of(files["inline-key.yaml"], "apiKey"),
        "no-email.yaml": line_of(files["no-email.yaml"], "  mapping:"),
        "owner-a.yaml": line_of(files["owner-a.yaml"], "listId"),
        "owner-b.yaml": line_of(files["owner-b.yaml"], "listId"),
        "syntax.yaml": line_of(files["syntax.yaml"], "consent: [unclosed") + 1,
        "unknown.yaml": line_of(files["unknown.yaml"], "bogus"),
    }


def check_acceptance_output(
    directory: Path, stdout: str, stderr: str, expected: dict[str, int]
) -> None:
    lines = stdout.splitlines()
    assert len(lines) == len(expected), stdout
    for line, (name, number) in zip(lines, sorted(expected.items()), strict=True):
        assert line.startswith(f"{directory}/{name}:{number}:"), (line, name, number)
    assert not any(line.startswith(f"{directory}/valid.yaml") for line in lines)
    assert "canary" not in stdout + stderr
    assert "duplicate key 'listId'" in stdout
    assert "YAML anchors and aliases are not allowed" in stdout
    assert "spec.mapping.email: required field is missing" in stdout
    assert "spec.bogus: unknown key (allowed: " in stdout
    assert "YAML syntax error: " in stdout
    assert "spec.sendgrid.apiKey: inline secrets are refused" in stdout
    assert f"list {SHARED_LIST} is also targeted by owner-b.yaml; one list has one owner" in stdout
    assert f"list {SHARED_LIST} is also targeted by owner-a.yaml; one list has one owner" in stdout
    assert stderr.strip().endswith("1 file valid, 8 invalid")


def test_the_acceptance_directory_reports_every_error_in_a_subprocess(tmp_path: Path) -> None:
    directory = tmp_path / "destinations.d"
    expected = acceptance_directory(directory)

    done = subprocess.run(
        [sys.executable, "-m", "syncd", "validate", str(directory)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )

    assert done.returncode == 1, done.stderr
    check_acceptance_output(directory, done.stdout, done.stderr, expected)


def test_the_acceptance_directory_reports_every_error_in_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "destinations.d"
    expected = acceptance_directory(directory)

    status = main(["validate", str(directory)])

    out, err = capsys.readouterr()
    assert status == 1
    check_acceptance_output(directory, out, err, expected)


def test_a_directory_of_valid_files_passes_silently(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "a.yaml", destination("a", other_list(1)))
    write(tmp_path, "b.yml", destination("b", other_list(2)))

    status = main(["validate", str(tmp_path)])

    out, err = capsys.readouterr()
    assert (status, out, err) == (0, "", "2 files valid, 0 invalid\n")


def test_the_default_path_is_the_destinations_directory_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "from-env", "a.yaml", "a: 1\na: 2\n")
    monkeypatch.setenv("SYNCD_DESTINATIONS", str(tmp_path / "from-env"))

    status = main(["validate"])

    out, _ = capsys.readouterr()
    assert status == 1
    assert out == f"{tmp_path}/from-env/a.yaml:2:1: duplicate key 'a' (first at line 1)\n"


def test_the_destinations_option_overrides_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNCD_DESTINATIONS", str(tmp_path / "absent"))
    write(tmp_path / "given", "a.yaml", VALID)

    status = main(["validate", "--destinations", str(tmp_path / "given")])

    assert status == 0
    assert capsys.readouterr().err == "1 file valid, 0 invalid\n"


def test_files_can_be_named_one_by_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "good.yaml", destination("good", other_list(1)))
    bad = write(tmp_path, "bad.yaml", "- not a mapping\n")

    status = main(["validate", str(good), str(bad)])

    out, err = capsys.readouterr()
    assert status == 1
    assert out == f"{bad}:1:1: the document must be a mapping (apiVersion: ...), not a list\n"
    assert err == "1 file valid, 1 invalid\n"


def test_a_file_name_holding_a_line_feed_cannot_forge_a_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # CI annotators read each line as a finding: a name may not start one of its own.
    name = "fake.yaml:1:1: all good\nx.yaml"
    write(tmp_path, name, "- not a mapping\n")

    status = main(["validate", str(tmp_path)])

    out, _ = capsys.readouterr()
    assert status == 1
    assert out == (
        f"{tmp_path}/fake.yaml:1:1: all good\\u000ax.yaml:1:1: the document must be a "
        "mapping (apiVersion: ...), not a list\n"
    )


def test_an_empty_directory_fails_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["validate", str(tmp_path)])

    out, err = capsys.readouterr()
    assert status == 1
    assert out == f"{tmp_path}: no destination files (*.yaml or *.yml) found\n"
    assert err == "0 files valid, 0 invalid\n"


def test_a_path_that_does_not_exist_fails_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["validate", str(tmp_path / "absent")])

    out, _ = capsys.readouterr()
    assert status == 1
    assert out == f"{tmp_path}/absent: no such file or directory\n"


def test_a_refused_directory_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for number in range(501):
        write(tmp_path, f"d{number:03d}.yaml", "a: 1\n")

    status = main(["validate", str(tmp_path)])

    out, _ = capsys.readouterr()
    assert status == 1
    assert out == f"{tmp_path}: 501 destination files, more than the limit of 500\n"
