"""The vendored spec stays as upstream published it; every correction is needed and listed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import aiohttp
import pytest

from syncd.emulator import ALL_SCOPES, Emulator, EmulatorConfig, Exchange
from tests.contract.deviations import DEVIATIONS
from tests.contract.tour import READ_ONLY_KEY, take_the_tour
from tests.contract.validating import SPEC_DIR, Conformance, check_exchange, spec_name_for
from tests.fixtures_emulator import TEST_API_KEY, default_emulator_config

DOCS = Path(__file__).parents[2] / "docs" / "emulator.md"
UPSTREAM_BLOBS = {
    "tsg_mc_contacts_v3.json": "9c203a56e712d1596ea775e46f88d25599881320",
    "tsg_mc_lists_v3.json": "e3cb22cb54856d4af52e723dad072fa3ec505196",
    "tsg_mc_custom_fields_v3.json": "68e0dd1c30c39d1d92fc401955e4eb8b57b7fa00",
    "tsg_scopes_v3.json": "ece999f1cb2cad4e12d48796115adebbb7189673",
    "LICENSE": "823438671ab0d8fa6b5b6eefe25218cb3a49f712",
}


@pytest.mark.parametrize(("name", "blob"), UPSTREAM_BLOBS.items())
def test_the_vendored_files_are_byte_identical_to_upstream(name: str, blob: str) -> None:
    content = (SPEC_DIR / name).read_bytes()
    git_blob = hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False)
    assert git_blob.hexdigest() == blob


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    keys = {TEST_API_KEY: ALL_SCOPES, READ_ONLY_KEY: frozenset({"marketing.read"})}
    return default_emulator_config(api_keys=keys)


@pytest.mark.slow
async def test_every_deviation_is_needed_by_some_exchange_of_the_tour(
    emulator: Emulator,
) -> None:
    async with aiohttp.ClientSession(base_url=emulator.url) as session:
        visits = await take_the_tour(emulator, session)
    corrected = [(visit.exchange, check_exchange(visit.exchange)) for visit in visits]
    unneeded = []
    for deviation in DEVIATIONS:
        if not any(
            _needs(deviation.name, exchange, verdict)
            for exchange, verdict in corrected
            if spec_name_for(exchange.template) in deviation.specs
        ):
            unneeded.append(deviation.name)
    assert not unneeded, f"deviations no exchange needs: {unneeded}"


def _needs(name: str, exchange: Exchange, corrected: Conformance) -> bool:
    """Whether this exchange conforms with the deviation and not without it."""
    pristine = check_exchange(exchange, leave_out=name)
    return (not corrected.response_errors and bool(pristine.response_errors)) or (
        not corrected.request_errors and bool(pristine.request_errors)
    )


def test_every_deviation_is_listed_in_the_docs() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    missing = [deviation.name for deviation in DEVIATIONS if f"`{deviation.name}`" not in docs]
    assert not missing, f"docs/emulator.md does not list: {missing}"
