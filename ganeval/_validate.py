"""Argument checks shared by every public function.

Messages follow one sentence pattern, e.g.
"Argument `epsilon` must be a positive float, but got 0."
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch

from .errors import GanevalTypeError, GanevalValueError

__all__ = [
    "check_positive_float",
    "check_positive_int",
    "check_choice",
    "check_tensor_shape",
    "check_finite",
    "fmt_shape",
]


def fmt_shape(shape: Iterable[Any]) -> str:
    """Format a shape as ``[8, 64]``; ``None`` entries print as ``*``."""
    return "[" + ", ".join("*" if s is None else str(s) for s in shape) + "]"


def check_positive_float(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number > 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise GanevalTypeError(f"Argument `{name}` must be a positive float, but got {value!r}.")
    if not math.isfinite(value) or value <= 0:
        raise GanevalValueError(f"Argument `{name}` must be a positive float, but got {value!r}.")
    return float(value)


def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise GanevalTypeError(f"Argument `{name}` must be an integer >= {minimum}, but got {value!r}.")
    if value < minimum:
        raise GanevalValueError(f"Argument `{name}` must be an integer >= {minimum}, but got {value!r}.")
    return int(value)


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise naming the valid options."""
    if value not in choices:
        opts = ", ".join(repr(c) for c in choices)
        raise GanevalValueError(f"Argument `{name}` must be one of {opts}, but got {value!r}.")
    return value


def check_tensor_shape(name: str, x: Any, shape: Sequence[int | None]) -> torch.Tensor:
    """Check that ``x`` is a tensor of rank ``len(shape)`` matching every non-``None`` size."""
    if not isinstance(x, torch.Tensor):
        raise GanevalTypeError(
            f"Argument `{name}` must be a torch.Tensor of shape {fmt_shape(shape)}, but got {type(x).__name__}."
        )
    ok = x.ndim == len(shape) and all(s is None or s == d for s, d in zip(shape, x.shape))
    if not ok:
        raise GanevalValueError(
            f"Argument `{name}` must have shape {fmt_shape(shape)}, but got {fmt_shape(x.shape)}."
        )
    return x


def check_finite(name: str, x: torch.Tensor) -> torch.Tensor:
    """Raise if ``x`` holds NaN or Inf, naming how many rows are affected."""
    if x.is_floating_point() and not torch.isfinite(x).all():
        bad = (~torch.isfinite(x.reshape(x.shape[0], -1))).any(dim=1).nonzero().flatten().tolist() if x.ndim else [0]
        raise GanevalValueError(
            f"Argument `{name}` must be finite, but {len(bad)} row(s) hold NaN or Inf (first: {bad[:5]})."
        )
    return x
