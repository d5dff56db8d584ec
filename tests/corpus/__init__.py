"""The bad-input corpus: destination files and source data syncd must refuse, with the
reason it must give for each.

Text cases are files beside this module (`destinations/`, `sources/`); what cannot live
in git, or should not (binary data, files of megabytes, FIFOs, symlinks, 10,000 rows),
is made by `destination_corpus()` and `source_corpus()` in a temporary directory.
"""

from tests.corpus.bad_files import (
    BAD_FILES,
    SHARED,
    BadFile,
    destination_corpus,
    too_many_bytes,
    too_many_files,
)
from tests.corpus.bad_sources import (
    BAD_SOURCES,
    FULL_MAPPING,
    POSTGRES_SETUP,
    BadSource,
    csv,
)
from tests.corpus.common import DESTINATIONS, HERE, MIB, SOURCES, destination_text, list_id
from tests.corpus.source_files import (
    STRAY_QUOTE_AT,
    STRAY_QUOTE_ROWS,
    source_corpus,
    stray_quote,
)

__all__ = [
    "BAD_FILES",
    "BAD_SOURCES",
    "DESTINATIONS",
    "FULL_MAPPING",
    "HERE",
    "MIB",
    "POSTGRES_SETUP",
    "SHARED",
    "SOURCES",
    "STRAY_QUOTE_AT",
    "STRAY_QUOTE_ROWS",
    "BadFile",
    "BadSource",
    "csv",
    "destination_corpus",
    "destination_text",
    "list_id",
    "source_corpus",
    "stray_quote",
    "too_many_bytes",
    "too_many_files",
]
