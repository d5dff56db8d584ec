"""A job's errors file, served at its `errors_url`.

SendGrid does not document the file's layout, so its format, its column headers and whether
it lists every rejected contact are knobs (`errors_file_*`): a client must find the columns
by name and cope with rows that do not add up to `errored_count`. The layout is fixed when
the job finishes, as a real file would be.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import orjson

from syncd.emulator.profiles import Behaviour, ErrorsFileFormat

CONTENT_TYPES: dict[ErrorsFileFormat, str] = {"csv": "text/csv", "json": "application/json"}


@dataclass(frozen=True)
class ErrorsFileLayout:
    file_format: ErrorsFileFormat
    email_header: str
    reason_header: str
    omits: int  # how many of the last rejected contacts the file leaves out

    @classmethod
    def of(cls, behaviour: Behaviour) -> ErrorsFileLayout:
        return cls(
            file_format=behaviour.errors_file_format,
            email_header=behaviour.errors_file_email_header,
            reason_header=behaviour.errors_file_reason_header,
            omits=behaviour.errors_file_omits,
        )


def errors_file(layout: ErrorsFileLayout, rejections: list[tuple[str, str]]) -> bytes:
    """CSV: a header line, then one row per listed contact. JSON: an array of objects, each
    with the same two keys (the emulator's choice; SendGrid documents no JSON file)."""
    listed = rejections[: max(0, len(rejections) - layout.omits)]
    headers = (layout.email_header, layout.reason_header)
    if layout.file_format == "json":
        return orjson.dumps([dict(zip(headers, row, strict=True)) for row in listed])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(listed)
    return buffer.getvalue().encode()
