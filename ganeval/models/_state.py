"""Exact state-dict loading for every checkpoint format: key sets and shapes checked, clear errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
from torch import nn

from ..errors import CheckpointError

__all__ = ["load_state_exact"]


def load_state_exact(
    G: nn.Module, state: Mapping[str, torch.Tensor], *, source: str, rebuilt: Iterable[str] = ()
) -> None:
    """Load ``state`` into ``G`` after checking the key sets and every shape explicitly.

    ``rebuilt`` lists keys (e.g. resample filters) that the source format does not store; they
    keep the values ``G`` was built with. Any other missing or unexpected key, or a shape
    mismatch, raises :class:`CheckpointError` naming the file and the first offenders.
    """
    expected = G.state_dict()
    full = dict(state)
    for key in rebuilt:
        if key not in full and key in expected:
            full[key] = expected[key]
    missing = sorted(set(expected) - set(full))
    unexpected = sorted(set(full) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{source}: expected exactly the {type(G).__name__} parameters, but {len(missing)} are missing "
            f"(first: {missing[:3]}) and {len(unexpected)} are unexpected (first: {unexpected[:3]})."
        )
    bad = [
        f"{k} expected {list(v.shape)} found {list(full[k].shape)}"
        for k, v in expected.items()
        if tuple(full[k].shape) != tuple(v.shape)
    ]
    if bad:
        raise CheckpointError(f"{source}: {len(bad)} tensor(s) have mismatched shapes, first: {'; '.join(bad[:3])}.")
    G.load_state_dict({k: v.to(expected[k].dtype) for k, v in full.items()}, strict=True)
