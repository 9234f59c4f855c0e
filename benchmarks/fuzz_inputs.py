"""Fuzz every reader of untrusted files with many mutated inputs; print a table of outcomes.

Run: ``python benchmarks/fuzz_inputs.py [--cases 300] [--seed 0] [--only NAME]``. Each target's
valid seed file is mutated (truncations, byte flips, inserted/zeroed runs, lying ``.npy``
headers, wrong types in every JSON/pickle field, rewritten resume chunks) and read as ganeval
reads it. Exit status 1 when any case ends in a traceback, hang, memory blow-up, silently wrong
number or lost file (the first ones are listed). The test suite runs the same engine with a few
cases per target (``tests/test_fuzz_inputs.py``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from fuzz import targets  # noqa: E402 (after the sys.path set-up above)
from fuzz.engine import BAD, format_table, run_target  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=300, help="Mutations per target.")
    ap.add_argument("--seed", type=int, default=0, help="Seed of the mutation choices.")
    ap.add_argument("--only", default=None, help="Run only targets whose name contains this text.")
    args = ap.parse_args()
    if args.cases < 1:
        ap.error("--cases must be >= 1")
    import torch

    torch.set_num_threads(1)
    logging.disable(logging.WARNING)  # discarded-chunk warnings are expected outcomes here
    warnings.simplefilter("ignore")
    rows, t0 = {}, time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ganeval-fuzz-") as tmp:
        for make in targets.ALL:
            target = make()
            if args.only and args.only not in target.name:
                continue
            t = time.perf_counter()
            rows[target.name] = run_target(target, Path(tmp) / make.__name__, cases=args.cases, seed=args.seed)
            print(
                f"{target.name}: {sum(rows[target.name].counts.values())} cases in {time.perf_counter() - t:.1f} s",
                file=sys.stderr,
            )
    print(format_table(rows))
    print(
        f"\n{sum(sum(t.counts.values()) for t in rows.values())} cases in {time.perf_counter() - t0:.0f} s "
        f"(seed {args.seed})."
    )
    bad = [line for t in rows.values() for line in t.bad]
    for line in bad[:40]:
        print("  " + line)
    return 1 if any(t.counts[o] for t in rows.values() for o in BAD) else 0


if __name__ == "__main__":
    sys.exit(main())
