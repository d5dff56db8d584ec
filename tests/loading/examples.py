"""Destination files for tests: the documented valid example, and variations of it."""

from __future__ import annotations

from pathlib import Path

LIST_ID = "7f3c2a9e-1b4d-4c8e-9a52-3e6f0b1d2c4a"

VALID = f"""\
apiVersion: syncd/v1
kind: SendGridDestination
metadata:
  name: vip-newsletter
spec:
  displayName: VIP newsletter
  sendgrid:
    apiKey: {{env: SENDGRID_API_KEY}}
    listId: {LIST_ID}
  consent:
    dataPrivacyAcknowledged: true
  segments:
    - name: vip
      source: {{csv: {{path: ../examples/data/vip.csv}}}}
  mapping:
    email: EmailAddress
    first_name: FirstName
    custom_fields: {{loyalty_tier: Tier}}
  schedule: {{interval: 1h}}
  onLeave: removeFromList
  limits: {{maxProfiles: 100000, maxRemovalFraction: 0.2}}
"""


def line_of(text: str, fragment: str) -> int:
    """1-based number of the first line of `text` containing `fragment`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in the text")


def destination(name: str = "vip-newsletter", list_id: str = LIST_ID) -> str:
    """The valid example under another name and list."""
    return VALID.replace("name: vip-newsletter", f"name: {name}").replace(LIST_ID, list_id)


def changed(old: str, new: str, text: str = VALID) -> str:
    """The example with one fragment replaced (the fragment must be there)."""
    assert old in text, old
    return text.replace(old, new, 1)


def write(directory: Path, name: str, text: str | bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def other_list(number: int) -> str:
    """A distinct valid list id per number."""
    return f"00000000-0000-4000-8000-{number:012d}"
