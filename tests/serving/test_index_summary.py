"""The status page's summary line (`serving.pages.index_body`), from a status document."""

from __future__ import annotations

from syncd.serving.pages import index_body
from syncd.shapes import DestinationStatus, InvalidFile, Problem, StatusDocument


def test_only_invalid_files_with_nothing_running_are_counted_as_not_running() -> None:
    broken = Problem(file="eu.yaml", line=3, column=1, message="spec.segmentz: unknown key")
    document = StatusDocument(
        destinations=[
            DestinationStatus(
                name="eu", file="eu.yaml", digest="d", state="ready", file_problems=[broken]
            ),
            DestinationStatus(name="vip", file="vip.yaml", digest="d", state="ready"),
        ],
        invalid_files=[
            InvalidFile(file="eu.yaml", problems=[broken]),
            InvalidFile(file="new.yaml", problems=[Problem(file="new.yaml", message="empty")]),
        ],
    )
    html = index_body(document)
    assert "<p>2 destinations: 1 file invalid, 1 ready; 1 invalid file(s) not running.</p>" in html
    not_running = html.split("<h2>Invalid files (not running)</h2>")[1]
    assert not_running == "<ul class='problems'><li><code>new.yaml</code>: empty</li></ul>"
