"""A bounded run of the file-mutation fuzzer over every reader of untrusted files.

Each target's valid seed file is mutated (truncations, byte flips, lying ``.npy`` headers, wrong
types in every field, rewritten resume chunks) and read as ganeval reads it: every case must end
refused with one line, or accepted with a right result; never a traceback, a hang, a memory
blow-up, a silently wrong number or a lost file. ``benchmarks/fuzz_inputs.py`` runs many more.
"""

from __future__ import annotations

import logging

import pytest
from fuzz import targets
from fuzz.engine import BAD, run_target

CASES = 40  # per target: ~8 s in all on a loaded 2-core machine


@pytest.mark.filterwarnings("ignore::UserWarning")  # skipped unterminated lines, small-sample FD: expected here
@pytest.mark.parametrize("make", targets.ALL, ids=[m.__name__ for m in targets.ALL])
def test_fuzzed_inputs_are_refused_or_read_right(make, tmp_path, tmp_home, caplog):
    caplog.set_level(logging.ERROR)  # discarded resume chunks warn by design
    target = make()
    tally = run_target(target, tmp_path, cases=CASES, seed=1234)
    assert sum(tally.counts.values()) == CASES
    assert not any(tally.counts[o] for o in BAD), "\n".join(tally.bad)
    # the mutations must actually reach the reader's refusals (a fuzzer that only feeds valid files proves nothing)
    assert tally.counts["refused"] + tally.counts["recovered"] > 0, tally.counts


def test_resume_chunk_mutations_are_all_recomputed(tmp_path, caplog):
    """Every mutated middle chunk is detected and recomputed: the result equals a clean run's."""
    caplog.set_level(logging.WARNING, logger="ganeval")
    tally = run_target(targets.resume_chunk(), tmp_path, cases=CASES, seed=7)
    # recovered: detected, reported, recomputed; accepted: a harmless byte (zip timestamp, padding)
    assert tally.counts["recovered"] + tally.counts["accepted"] == CASES, (tally.counts, tally.bad)
    assert tally.counts["recovered"] >= CASES * 3 // 4, tally.counts
    assert "is corrupt" in caplog.text  # the reuse was refused with the chunk's path, not silently taken
