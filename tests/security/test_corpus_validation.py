"""`syncd validate` over the bad destination corpus shows no secret a file refers to.

The corpus runner (tests/guarantees/test_bad_input.py) checks each bad file's exact
problems, among them every reference the allowlists refuse (`references.yaml`), and
that no file's content is echoed. This adds the other side: validating reads no
secret, so none of the values the files refer to can appear, whatever the files say.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.commands import syncd
from tests.corpus import destination_corpus

CANARIES = {
    "SENDGRID_API_KEY": "SG.CANARYcorpus-key-000000.CANARYcorpus-secret-0123456789abcdef",
    "WAREHOUSE_DSN": "postgresql://u:CANARY-corpus-pw@db:5432/x",
    "SYNCD_ADMIN_TOKEN": "CANARY-corpus-admin-token",
}


async def test_validating_the_corpus_shows_no_secret_its_files_refer_to(tmp_path: Path) -> None:
    directory = destination_corpus(tmp_path / "destinations.d")
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("SYNCD_")}

    done = await syncd("validate", str(directory), env={**inherited, **CANARIES}, within=30)

    assert done.code == 1
    assert "references.yaml:8:12: spec.sendgrid.apiKey.env: WAREHOUSE_DSN is not" in done.out
    for canary in CANARIES.values():
        assert canary not in done.text
    assert "CANARY" not in done.text
