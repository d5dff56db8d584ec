"""The verify read's spill: rows and their prints written, read back by bucket across block
boundaries."""

from __future__ import annotations

import random

from syncd.reconciling.spill import BLOCK, Spill


def test_rows_come_back_in_order_for_the_buckets_asked_whatever_the_blocks() -> None:
    rng = random.Random(7)
    written = []
    spill = Spill()
    try:
        for n in range(40_000):  # several blocks of bytes, records across their edges
            values = ("x" * rng.randrange(0, 200)).encode()
            bucket = rng.choice((3, 11, 4097, 40_000, 65_535))  # in four of the files
            raw = rng.getrandbits(48) << 16 | bucket  # a source print: its bucket, low bits
            segment = n * 3 // 40_000  # three segments, read one after the other
            spill.add(raw, segment, n, values)
            written.append((raw, segment, n, values))
        assert sum(len(v) + 24 for *_, v in written) > 2 * BLOCK
        spill.finish()
        assert spill.usable
        wanted = {3, 4097, 65_535}  # rows of three files, merged back in read order
        expected = [(s, n, v, raw) for raw, s, n, v in written if raw & 0xFFFF in wanted]
        assert list(spill.rows(wanted)) == expected
        some = {raw for raw, *_ in written[::7] if raw & 0xFFFF in wanted}
        assert list(spill.rows(wanted, some)) == [r for r in expected if r[3] in some]
        groups = spill.prints(wanted)
        assert sorted(p for g in groups for p in g) == sorted(r[3] for r in expected)
        assert all(p >> 12 & 0xF == g for g, prints in enumerate(groups) for p in prints)
    finally:
        spill.close()


def test_a_spill_stops_being_usable_past_its_size_or_at_a_row_it_cannot_hold() -> None:
    small = Spill(max_bytes=100)
    small.add(1, 0, 1, b"x" * 50)
    small.finish()
    first = small.usable
    small.add(1, 0, 2, b"x" * 50)
    small.finish()
    assert (first, small.usable) == (True, False)
    small.close()
    odd = Spill()
    odd.add(1, 0, 1, None)  # values orjson could not write: `key` must see them
    assert not odd.usable
    odd.close()
