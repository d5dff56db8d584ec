"""What `syncd plan --remote` sends of each `--file`: the file itself, nothing it points to."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from syncd.cli.common import UsageError
from syncd.cli.remote_plans import candidate


def test_a_regular_file_is_sent_by_its_base_name(tmp_path: Path) -> None:
    path = tmp_path / "members.yaml"
    path.write_text("apiVersion: syncd/v1\n")
    assert candidate(path) == {"name": "members.yaml", "content": "apiVersion: syncd/v1\n"}


def test_a_link_is_refused_not_followed(tmp_path: Path) -> None:
    # A pull request's file linked to a file of the CI runner sent that file's text to
    # the daemon.
    secret = tmp_path / "runner-key"
    secret.write_text("-----BEGIN PRIVATE KEY-----\n")
    link = tmp_path / "members.yaml"
    link.symlink_to(secret)
    with pytest.raises(UsageError) as caught:
        candidate(link)
    assert str(caught.value) == f"{link}: is a symbolic link; give the file itself"


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "members.yaml"
    os.mkfifo(fifo)
    with pytest.raises(UsageError) as caught:
        candidate(fifo)
    assert str(caught.value) == f"{fifo}: not a regular file"


def test_a_folder_of_the_path_that_is_a_link_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # O_NOFOLLOW looks at the last part only: a pull request's folder linked to the
    # runner's home read the file there.
    elsewhere = tmp_path / "runner"
    elsewhere.mkdir()
    (elsewhere / "key.yaml").write_text("secret\n")
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "destinations.d").symlink_to(elsewhere)
    monkeypatch.chdir(checkout)
    with pytest.raises(UsageError) as caught:
        candidate(Path("destinations.d/key.yaml"))
    assert str(caught.value) == (
        "destinations.d/key.yaml: destinations.d is a symbolic link; give the file itself"
    )
