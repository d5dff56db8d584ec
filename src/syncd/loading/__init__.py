"""Strict reading of destination files into a `Catalog`.

```
directory ──files──▶ bytes (visible names, symlinks contained, size limits, no FIFOs)
          ──yaml_reading──▶ data + positions (one document, no aliases, no duplicate keys)
          ──validation──▶ Destination, or problems at their line
          ──policy──▶ refused where it names what the operator's allowlists do not allow
          ──catalog──▶ Catalog (one name one file, one list one owner (owners), digests)
```

One bad file never hides the others; loading never touches the network, reads no
source data, resolves no secret and reads no setting (the caller passes the
`Allowlists` its settings define).
"""

from syncd.loading.catalog import (
    Catalog,
    FileResult,
    LoadedDestination,
    load_directory,
    load_paths,
    load_with,
)
from syncd.loading.files import MAX_DIRECTORY_BYTES, MAX_FILE_BYTES, MAX_FILES
from syncd.loading.owners import FirstClaimWins
from syncd.loading.problems import Problem

__all__ = [
    "MAX_DIRECTORY_BYTES",
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "Catalog",
    "FileResult",
    "FirstClaimWins",
    "LoadedDestination",
    "Problem",
    "load_directory",
    "load_paths",
    "load_with",
]
