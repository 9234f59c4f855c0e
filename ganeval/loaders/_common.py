"""Helpers shared by the loaders: exact state-dict loading and kwarg checks with clear errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import nn

from ..errors import CheckpointError

__all__ = ["load_state_exact", "check_kwargs", "as_tensor", "plain"]


def as_tensor(value: Any, *, source: str, name: str) -> torch.Tensor:
    """A float32 CPU tensor from a numpy array/scalar or tensor (copied, contiguous)."""
    if isinstance(value, torch.Tensor):
        t = value.detach().to("cpu")
    else:
        try:
            import numpy as np

            t = torch.from_numpy(np.array(value, dtype=np.float32, copy=True))
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"{source}: `{name}` must be a numeric array, but reading it failed: {exc}") from None
    return t.to(torch.float32).contiguous().clone()


def load_state_exact(G: nn.Module, state: Mapping[str, torch.Tensor], *, source: str,
                     rebuilt: Iterable[str] = ()) -> None:
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
    bad = [f"{k} expected {list(v.shape)} found {list(full[k].shape)}"
           for k, v in expected.items() if tuple(full[k].shape) != tuple(v.shape)]
    if bad:
        raise CheckpointError(f"{source}: {len(bad)} tensor(s) have mismatched shapes, first: {'; '.join(bad[:3])}.")
    G.load_state_dict({k: v.to(expected[k].dtype) for k, v in full.items()}, strict=True)


def check_kwargs(kwargs: Mapping[str, Any], *, source: str, what: str, supported: Iterable[str],
                 fixed: Mapping[str, Any] = {}, ignored: Iterable[str] = ()) -> None:
    """Refuse kwargs ganeval does not implement.

    ``supported`` are translated by the caller; ``fixed`` must equal the given value (e.g.
    ``architecture="skip"``); ``ignored`` only matter for training. Anything else is refused,
    naming the kwarg.
    """
    known = set(supported) | set(fixed) | set(ignored)
    for key, value in kwargs.items():
        if key not in known:
            raise CheckpointError(
                f"{source}: {what} kwarg `{key}` (= {value!r}) is not supported by ganeval; expected only "
                f"{sorted(known)}."
            )
        if key in fixed and value != fixed[key] and not _same(value, fixed[key]):
            raise CheckpointError(
                f"{source}: {what} kwarg `{key}` must be {fixed[key]!r} for ganeval, but the checkpoint has {value!r}."
            )


def _same(a: Any, b: Any) -> bool:
    try:
        return list(a) == list(b)
    except TypeError:
        return False


def plain(obj: Any) -> Any:
    """EasyDicts, tuples and numpy values -> plain dicts, lists and scalars (for JSON provenance)."""
    if isinstance(obj, Mapping):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if hasattr(obj, "item") and getattr(obj, "ndim", 1) == 0:
        return obj.item()
    return repr(obj)
