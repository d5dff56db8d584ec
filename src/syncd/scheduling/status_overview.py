"""The status document: every destination, every invalid file, every other problem.

What the admin API's `/status` and `syncd status` answer: the destinations' own
statuses, each invalid file with the problems found in it, and the problems that
concern no single file, in one document.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath

from syncd.loading import Problem
from syncd.scheduling.status import problem_shape
from syncd.shapes import DestinationStatus as StatusShape
from syncd.shapes import InvalidFile, StatusDocument


def status_document(
    destinations: Sequence[StatusShape], problems: Sequence[Problem], invalid_files: Sequence[str]
) -> StatusDocument:
    """Every destination, every invalid file with its problems, and the problems that
    concern no single invalid file (the directory, a clash between files)."""
    by_file: dict[str, list[Problem]] = {file: [] for file in invalid_files}
    others: list[Problem] = []
    for problem in problems:  # a problem names the file's path; the catalog keys its name
        by_file.get(PurePath(problem.file).name, others).append(problem)
    return StatusDocument(
        destinations=list(destinations),
        invalid_files=[
            InvalidFile(file=file, problems=[problem_shape(p) for p in found])
            for file, found in sorted(by_file.items())
        ],
        problems=[problem_shape(p) for p in others],
    )
