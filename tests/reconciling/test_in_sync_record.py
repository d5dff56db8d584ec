"""The in-sync record's text form: read back as written, old records read, bad ones ignored."""

from __future__ import annotations

import pytest

from syncd.reconciling.in_sync import InSyncRecord


def test_a_record_reads_back_as_it_was_written() -> None:
    record = InSyncRecord("d" * 64, "a1-b2", 1234567890123, profiles=10, rows=12, forgotten=2)
    assert InSyncRecord.parse(record.encode()) == record


def test_a_record_written_before_erasure_existed_reads_as_nothing_forgotten() -> None:
    assert InSyncRecord.parse("def:prints:42:10:12") == InSyncRecord("def", "prints", 42, 10, 12)


@pytest.mark.parametrize("text", [None, "", "def:prints:42", "def:prints:x:10:12", "a:b:1:2:3:4:5"])
def test_a_record_this_syncd_cannot_read_means_nothing_is_known(text: str | None) -> None:
    assert InSyncRecord.parse(text) is None


def test_same_sources_needs_the_same_definition_and_the_same_files() -> None:
    record = InSyncRecord("def", "prints", 42, 10, 12)
    assert record.same_sources("def", "prints")
    assert not record.same_sources("other", "prints")
    assert not record.same_sources("def", "changed")
    assert not record.same_sources("def", None)
