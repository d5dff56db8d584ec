"""The image installs syncd the way `make install` does, and runs the way Kubernetes expects."""

from __future__ import annotations

import re
import shlex

from tests.deploy.conftest import ROOT, Manifest, one

DOCKERFILE = (ROOT / "Dockerfile").read_text()
MAKEFILE = (ROOT / "Makefile").read_text()
SCRIPT = "scripts/install-venv.sh"


def instructions(keyword: str) -> list[str]:
    """Arguments of every Dockerfile instruction `keyword`, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [
        line.split(None, 1)[1] if " " in line else ""
        for line in joined.splitlines()
        if line.split(None, 1)[:1] == [keyword]
    ]


def stamp_recipe() -> list[str]:
    """The commands of the Makefile rule that creates the venv."""
    lines = MAKEFILE.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("$(STAMP):"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def test_make_and_the_image_install_with_the_same_script() -> None:
    make_calls = [c for c in stamp_recipe() if SCRIPT in c]
    image_calls = [r for r in instructions("RUN") if SCRIPT in r]
    assert len(make_calls) == 1
    assert len(image_calls) == 1
    # Development install: editable with the dev extras; the image: neither, but with
    # PostgreSQL (sources and the shared ledger), as before it became an extra.
    assert shlex.split(make_calls[0])[1:] == [SCRIPT, "--editable", "$(VENV)", "dev"]
    assert shlex.split(image_calls[0]) == [SCRIPT, "/opt/syncd", "postgres"]


def test_the_image_copies_what_the_install_script_reads() -> None:
    copied = " ".join(instructions("COPY"))
    for needed in ("pyproject.toml", "constraints.txt", "README.md", SCRIPT, "src/"):
        assert needed in copied
    allowed = (ROOT / ".dockerignore").read_text()
    for needed in ("pyproject.toml", "constraints.txt", "README.md", SCRIPT, "src/"):
        assert f"!{needed}" in allowed


def test_both_stages_use_the_same_pinned_slim_python_base() -> None:
    bases = [f.split()[0] for f in instructions("FROM")]
    assert len(bases) == 2
    assert bases[0] == bases[1]
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?(@sha256:[0-9a-f]{64})?", bases[0])


def test_the_image_runs_syncd_as_its_entrypoint_in_exec_form_without_healthcheck() -> None:
    assert instructions("ENTRYPOINT") == ['["/opt/syncd/bin/syncd"]']
    assert instructions("CMD") == ['["run"]']
    assert not instructions("HEALTHCHECK")
    env = " ".join(instructions("ENV"))
    assert "PYTHONUNBUFFERED=1" in env
    assert "SYNCD_LISTEN=0.0.0.0:9108" in env
    assert instructions("EXPOSE") == ["9108"]


def test_the_image_user_is_the_numeric_user_the_pod_runs_as(base: list[Manifest]) -> None:
    (user,) = instructions("USER")
    uid, _, gid = user.partition(":")
    pod = one(base, "Deployment", "syncd")["spec"]["template"]["spec"]["securityContext"]
    assert (int(uid), int(gid)) == (pod["runAsUser"], pod["runAsGroup"])
    assert int(uid) != 0
