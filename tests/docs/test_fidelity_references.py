"""The fidelity pages name real tests: every `tests/...py::Name` they cite exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PAGES = ("docs/sendgrid-fidelity.md", "docs/emulator-fidelity.md")
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)((?:::\w+)*)`")


def references() -> list[tuple[str, str, tuple[str, ...]]]:
    found = []
    for page in PAGES:
        text = (ROOT / page).read_text(encoding="utf-8")
        for path, names in REFERENCE.findall(text):
            found.append((page, path, tuple(n for n in names.split("::") if n)))
    return found


def test_the_pages_cite_tests_at_all() -> None:
    assert len(references()) > 30


@pytest.mark.parametrize(("page", "path", "names"), references())
def test_each_cited_test_exists(page: str, path: str, names: tuple[str, ...]) -> None:
    source = ROOT / path
    assert source.is_file(), f"{page} cites {path}, which does not exist"
    text = source.read_text(encoding="utf-8")
    for name in names:
        assert re.search(rf"\b(def|class) {name}\b", text), f"{page}: {path}::{name} not found"
