"""What the forgotten-address check (`syncd forget`) costs on the hot path.

    python -m bench.forgotten [--rows 1000000] [--repeat 3]

A verified refresh reads every row of the segment: it fingerprints its values and sums
them (`verify_segments`, the whole of such a refresh but the start-up and one aggregate
query); while anything is forgotten it also checks every row's address. Measured on the
benchmark's CSV file with nothing forgotten, and with one and a hundred of its addresses
forgotten (those rows are then dropped). Figures are CPU seconds of this process (the
machine may be shared with other work), the best of `--repeat` passes taken in turns, the
garbage collector paused.
"""

from __future__ import annotations

import argparse
import functools
import gc
import time
from collections.abc import Callable, Sequence

from bench.common import DATA
from bench.data import Dataset, fields
from bench.syncing import MAPPING
from syncd.allowlists import Allowlists
from syncd.contacts import NOTHING_FORGOTTEN, ContactBuilder, Forgotten, address_key, new_salt
from syncd.contacts import forgotten_digest as digest
from syncd.destinations import Spec
from syncd.reconciling.staging import SegmentSources, verify_segments


def best_of(passes: int, cases: dict[str, Callable[[], object]]) -> dict[str, float]:
    """The fastest pass of each case, the cases taking turns (a load that drifts then
    weighs on them alike)."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    gc.collect()
    gc.disable()
    try:
        for _ in range(passes):
            for name, work in cases.items():
                started = time.process_time()
                work()
                times[name].append(time.process_time() - started)
    finally:
        gc.enable()
    return {name: min(spent) for name, spent in times.items()}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    dataset = Dataset(args.rows)
    path = dataset.ensure()
    spec = Spec.model_validate(
        {
            "sendgrid": {
                "apiKey": {"env": "SENDGRID_API_KEY"},
                "listId": "00000000-0000-4000-8000-000000000000",
            },
            "consent": {"dataPrivacyAcknowledged": True},
            "segments": [{"name": "everyone", "source": {"csv": {"path": str(path)}}}],
            "mapping": MAPPING,
            "limits": {"maxProfiles": 50_000_000},
        }
    )
    builder = ContactBuilder(spec.mapping)
    policy = Allowlists((), (), (), (DATA,))
    salt = new_salt()

    def forgetting(count: int) -> Forgotten:
        if not count:
            return NOTHING_FORGOTTEN
        step = max(1, args.rows // count)
        picked = [address_key(fields(i)[0]) for i in range(0, args.rows, step)][:count]
        return Forgotten(salt, frozenset(digest(salt, address) for address in picked))

    def verify(forgotten: Forgotten) -> None:
        staged, _ = verify_segments(
            SegmentSources(spec, builder, DATA, policy, forgotten=forgotten)
        )
        assert staged.forgotten == len(forgotten.digests)

    print(f"{args.rows:,} rows of {path.name}; seconds, best of {args.repeat}")
    cases = {count: forgetting(count) for count in (0, 1, 100)}
    verified = best_of(
        args.repeat,
        {f"{n}": functools.partial(verify, forgotten) for n, forgotten in cases.items()},
    )
    base = verified["0"]
    for count in cases:
        seconds = verified[f"{count}"]
        extra = (
            f"(+{(seconds - base) / base:.0%}, +{(seconds - base) / args.rows * 1e9:.0f} ns a row)"
        )
        print(f"  verify, {count:>3} forgotten   {seconds:6.2f}  {extra if count else ''}")


if __name__ == "__main__":
    main()
