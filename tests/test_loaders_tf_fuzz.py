"""Fuzzing the TF pickle loader with producer-layout files (rebuilt from ``tests/fixtures/tf-*``).

Every case must end in a one-line :class:`CheckpointError` that names the file, or load; a file
that loads either reproduces the producer's outputs (the change hit bytes the generator does not
use: D, G, ``build_module_src``) or differs from the clean file's generator only in values, all
finite, with every key and shape the same (a TF pickle has no checksum, so a flipped bit inside a
weight is a different, valid weight; the counts say how many values moved). Never another
exception, a hang or a large allocation. The counts of each outcome are printed (``-s``); at the
seed used: per file 39 truncations, all refused; of 80 byte flips 61-64 reproduce, 15-18 change
exactly one value, 1 is refused; 26 lying static kwargs, all refused.
"""

from __future__ import annotations

import random
import resource
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from _tf_producer import FIXTURES, build_pickle, load_fixture

from ganeval.errors import CheckpointError
from ganeval.loaders import load_generator

CASES = ("tf-v1-32-c3-m8", "tf-v2-32-c3-m2")
MAX_SECONDS_PER_CASE = 20.0
MAX_RSS_GROWTH_KB = 1 << 20  # 1 GiB


def _outcome(path: Path, io: dict, clean: dict[str, torch.Tensor] | None = None) -> str:
    """'error', 'reproduces' or 'changed: N values' for one file; fails the test on anything else.

    A file that loads but does not reproduce must differ from the clean file's generator in its
    values only (N = the number of state-dict elements that differ): the loader kept what the
    changed bytes say, nothing else moved.
    """
    start = time.monotonic()
    try:
        G = load_generator(path)
    except CheckpointError as exc:
        msg = str(exc)
        assert "\n" not in msg and str(path) in msg, msg
        return "error"
    finally:
        assert time.monotonic() - start < MAX_SECONDS_PER_CASE
    with torch.no_grad():
        img = G.synthesis(torch.from_numpy(io["ws"]), noise_mode="const")
    want = torch.from_numpy(io["img_const"])
    ok = img.shape == want.shape and float((img - want).abs().max()) <= 2e-5 * float(want.abs().max())
    if ok:
        return "reproduces"
    state = G.state_dict()
    assert clean is not None and state.keys() == clean.keys()
    assert all(state[k].shape == v.shape for k, v in clean.items())
    assert all(torch.isfinite(v).all() for v in state.values())
    changed = sum(int((state[k] != v).sum()) for k, v in clean.items())
    return "changed: 1 value" if changed == 1 else "changed: >1 values"


@pytest.mark.parametrize("name", CASES)
def test_truncated_and_mutated_files(tmp_path, name):
    folder = FIXTURES / name
    _, _, io = load_fixture(folder)
    data = build_pickle(folder, protocol=4)
    path = tmp_path / "network-snapshot.pkl"
    path.write_bytes(data)
    clean = load_generator(path).state_dict()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rng = random.Random(1234)
    counts: dict[str, Counter] = {"truncated": Counter(), "byte flips": Counter()}
    # offset 1 (only the \x80 byte): see test_pickle_cut_after_one_byte
    offsets = sorted({0, 2, 3, 10, 50, len(data) - 1, len(data) - 2} | {rng.randrange(2, len(data)) for _ in range(32)})
    for cut in offsets:
        path.write_bytes(data[:cut])
        counts["truncated"][_outcome(path, io)] += 1
    for _ in range(80):
        mutated = bytearray(data)
        pos = rng.randrange(len(mutated))
        mutated[pos] ^= rng.randrange(1, 256)
        path.write_bytes(bytes(mutated))
        counts["byte flips"][_outcome(path, io, clean)] += 1
    print(f"{name}: " + "; ".join(f"{k}: {dict(v)}" for k, v in counts.items()))
    assert counts["truncated"]["error"] == len(offsets)  # a truncated pickle never loads
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0 < MAX_RSS_GROWTH_KB


def test_pickle_cut_after_one_byte(tmp_path):
    path = tmp_path / "network-snapshot.pkl"
    path.write_bytes(build_pickle(FIXTURES / CASES[0], protocol=4)[:1])
    assert _outcome(path, {}) == "error"


LIES = [
    ("resolution", "abc"),
    ("resolution", None),
    ("resolution", [32]),
    ("resolution", 2**30),
    ("resolution", 48),
    ("resolution", 2.0),
    ("resolution", True),
    ("fmap_base", 2**40),
    ("fmap_max", 2**40),
    ("fmap_max", 4096),
    ("fmap_base", -8),
    ("latent_size", 0),
    ("latent_size", 1 << 14),
    ("dlatent_size", "512"),
    ("mapping_layers", 10**6),
    ("mapping_layers", 0),
    ("mapping_fmaps", 1 << 14),
    ("num_channels", 0),
    ("num_channels", 10**9),
    ("fmap_decay", float("nan")),
    ("fmap_decay", "x"),
    ("mapping_lrmul", float("inf")),
    ("label_size", -1),
    ("label_size", None),
    ("resolution", 4),
    ("resolution", 64),
]


@pytest.mark.parametrize("name", CASES)
def test_lying_static_kwargs(tmp_path, name):
    """Static kwargs that disagree with the variables, are of the wrong type or describe huge networks
    are refused before anything of their size is allocated."""
    folder = FIXTURES / name
    _, _, io = load_fixture(folder)
    counts: Counter = Counter()
    for key, value in LIES:

        def edit(prefix: str, state: dict, key=key, value=value) -> None:
            if prefix.startswith("Gs"):
                state["static_kwargs"][key] = value

        path = tmp_path / f"lie-{key}.pkl"
        path.write_bytes(build_pickle(folder, protocol=4, edit=edit))
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        outcome = _outcome(path, io)
        assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0 < MAX_RSS_GROWTH_KB, (key, value)
        assert outcome == "error", (key, value, outcome)
        counts[outcome] += 1
    print(f"{name}: lying static kwargs: {dict(counts)}")


def test_variable_shape_lie_is_refused(tmp_path):
    """A variable whose array does not have the shape the kwargs imply is named in the error."""
    folder = FIXTURES / "tf-v2-32-c3-m2"

    def edit(prefix: str, state: dict) -> None:
        if prefix == "Gs/synthesis":
            state["variables"] = [
                (n, np.zeros((3, 3, 16, 32), np.float32) if n == "8x8/Conv1/weight" else v)
                for n, v in state["variables"]
            ]

    path = tmp_path / "shape.pkl"
    path.write_bytes(build_pickle(folder, protocol=4, edit=edit))
    with pytest.raises(CheckpointError, match="mismatched shapes"):
        load_generator(path)
