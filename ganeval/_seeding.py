"""Counter-based randomness: every draw derives from (seed, stream, sample index).

A result computed from these draws is therefore identical whatever the batch size, the
number of processes, or the point where a run resumed. ``stream`` names what is drawn
("z0", "z1", "t", "noise", "label", ...) so that different quantities never share bits.

Latents are drawn on the CPU with NumPy (identical on every machine); per-sample noise maps
use a seeded :class:`torch.Generator` on the target device, so they are identical across
batch sizes and device counts on one device type (CPU and CUDA streams differ).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import torch

#: Sample indices: a list, range or 1-D integer array.
Indices = Sequence[int] | np.ndarray

__all__ = ["stream_id", "derived_seed", "normal", "uniform", "randint", "torch_generator"]


def stream_id(stream: str) -> int:
    """A stable 32-bit id for a stream name (crc32; independent of Python's hash seed)."""
    return zlib.crc32(stream.encode("utf-8"))


def derived_seed(seed: int, stream: str, index: int) -> int:
    """A 63-bit seed for sample ``index`` of ``stream`` under ``seed`` (SeedSequence-mixed)."""
    ss = np.random.SeedSequence(_entropy(seed, stream, index))
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


def _entropy(seed: int, stream: str, index: int) -> list[int]:
    if int(seed) < 0:
        from .errors import GanevalValueError

        raise GanevalValueError(f"Argument `seed` must be an integer >= 0, but got {seed}.")
    return [int(seed), stream_id(stream), int(index)]


def _rng(seed: int, stream: str, index: int) -> np.random.Generator:
    return np.random.default_rng(_entropy(seed, stream, index))


def normal(seed: int, stream: str, indices: Indices, shape: Sequence[int] = ()) -> torch.Tensor:
    """Standard normal draws, one block of ``shape`` per sample index.

    Returns a float32 CPU tensor of shape ``[len(indices), *shape]``.
    """
    shape = tuple(int(s) for s in shape)
    out = np.empty((len(indices), *shape), dtype=np.float64)
    for row, i in enumerate(indices):
        out[row] = _rng(seed, stream, i).standard_normal(shape)
    return torch.from_numpy(out.astype(np.float32))


def uniform(seed: int, stream: str, indices: Indices, shape: Sequence[int] = ()) -> torch.Tensor:
    """Uniform draws in [0, 1), float64, shape ``[len(indices), *shape]`` (keep float64: a cast to
    float32 can round values just below 1 up to 1.0)."""
    shape = tuple(int(s) for s in shape)
    out = np.empty((len(indices), *shape), dtype=np.float64)
    for row, i in enumerate(indices):
        out[row] = _rng(seed, stream, i).random(shape)
    return torch.from_numpy(out)


def randint(seed: int, stream: str, indices: Indices, high: int) -> torch.Tensor:
    """One integer in [0, high) per sample index; int64 tensor of shape ``[len(indices)]``."""
    out = np.array([_rng(seed, stream, i).integers(0, high) for i in indices], dtype=np.int64)
    return torch.from_numpy(out)


def torch_generator(seed: int, stream: str, index: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A :class:`torch.Generator` on ``device`` seeded for sample ``index`` of ``stream``."""
    g = torch.Generator(device=device)
    g.manual_seed(derived_seed(seed, stream, index))
    return g
