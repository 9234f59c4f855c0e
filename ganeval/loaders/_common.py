"""Helpers shared by the loaders: kwarg checks and tensor conversion with clear errors.

``load_state_exact`` lives in :mod:`ganeval.models._state` (the native format uses it too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch

from ..errors import CheckpointError
from ..models._state import load_state_exact

__all__ = ["load_state_exact", "check_kwargs", "as_tensor", "plain"]


def as_tensor(value: Any, *, source: str, name: str) -> torch.Tensor:
    """A float32 CPU tensor from a numpy array/scalar or tensor (copied, contiguous).

    Refuses non-numeric values and non-finite entries: a trained network holds none, so a NaN or
    infinity means a corrupt file, and outputs computed from it could not be right.
    """
    if isinstance(value, torch.Tensor):
        t = value.detach().to("cpu")
    elif not _is_numeric(value):
        raise CheckpointError(
            f"{source}: `{name}` must be a numeric array, but the file holds a {type(value).__name__}."
        )
    else:
        try:
            import numpy as np

            t = torch.from_numpy(np.array(value, dtype=np.float32, copy=True))
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"{source}: `{name}` must be a numeric array, but reading it failed: {exc}") from None
    t = t.to(torch.float32).contiguous().clone()
    if not bool(torch.isfinite(t).all()):
        raise CheckpointError(
            f"{source}: `{name}` must hold finite numbers, but it contains NaN or infinity (corrupt file?)."
        )
    return t


def _is_numeric(value: Any) -> bool:
    """numpy arrays/scalars and Python numbers (not strings, containers or other objects)."""
    import numpy as np

    if isinstance(value, (bool, str, bytes)):
        return False
    if isinstance(value, (int, float, np.generic)):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind in "biuf"


def check_kwargs(
    kwargs: Mapping[str, Any],
    *,
    source: str,
    what: str,
    supported: Iterable[str],
    fixed: Mapping[str, Any] = {},
    ignored: Iterable[str] = (),
) -> None:
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
