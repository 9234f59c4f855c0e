"""Argument checks shared by every public function.

Messages follow one sentence pattern, e.g.
"Argument `epsilon` must be a positive float, but got 0."
"""

from __future__ import annotations

import math
import numbers
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
    "check_float_images",
    "check_finite_float",
    "is_int",
    "short_repr",
    "fmt_shape",
]


def fmt_shape(shape: Iterable[Any]) -> str:
    """Format a shape as ``[8, 64]``; ``None`` entries print as ``*``."""
    return "[" + ", ".join("*" if s is None else str(s) for s in shape) + "]"


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` on one line, cut to ``limit`` characters (for one-line error messages)."""
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_int(value: Any) -> bool:
    """True for Python and NumPy integers (``np.int64(3)``), False for bools and everything else."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_positive_float(name: str, value: Any, maximum: float | None = None) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number > 0 (and <= ``maximum``)."""
    bound = "" if maximum is None else f" <= {maximum:g}"
    if not _is_real(value):
        raise GanevalTypeError(f"Argument `{name}` must be a positive float{bound}, but got {value!r}.")
    v = float(value)
    if not math.isfinite(v) or v <= 0 or (maximum is not None and v > maximum):
        raise GanevalValueError(f"Argument `{name}` must be a positive float{bound}, but got {value!r}.")
    return v


def check_finite_float(name: str, value: Any, minimum: float = -math.inf, maximum: float = math.inf) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number in ``[minimum, maximum]``."""
    what = f"a finite float in [{minimum:g}, {maximum:g}]"
    if not _is_real(value):
        raise GanevalTypeError(f"Argument `{name}` must be {what}, but got {value!r}.")
    v = float(value)
    if not (math.isfinite(v) and minimum <= v <= maximum):
        raise GanevalValueError(f"Argument `{name}` must be {what}, but got {value!r}.")
    return v


def check_positive_int(name: str, value: Any, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` as an int, or raise if it is not an integer in ``[minimum, maximum]``.

    NumPy integers count as integers; bools and integral floats (``3.0``) do not.
    """
    what = f"an integer >= {minimum}" if maximum is None else f"an integer in [{minimum}, {maximum}]"
    if not is_int(value):
        raise GanevalTypeError(f"Argument `{name}` must be {what}, but got {value!r}.")
    v = int(value)
    if v < minimum or (maximum is not None and v > maximum):
        raise GanevalValueError(f"Argument `{name}` must be {what}, but got {value!r}.")
    return v


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise naming the valid options."""
    if not isinstance(value, str) or value not in choices:
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
        raise GanevalValueError(f"Argument `{name}` must have shape {fmt_shape(shape)}, but got {fmt_shape(x.shape)}.")
    return x


def check_finite(name: str, x: torch.Tensor) -> torch.Tensor:
    """Raise if ``x`` holds NaN or Inf, naming how many rows are affected."""
    if x.is_floating_point() and not torch.isfinite(x).all():
        bad = (~torch.isfinite(x.reshape(x.shape[0], -1))).any(dim=1).nonzero().flatten().tolist() if x.ndim else [0]
        raise GanevalValueError(
            f"Argument `{name}` must be finite, but {len(bad)} row(s) hold NaN or Inf (first: {bad[:5]})."
        )
    return x


def check_float_images(name: str, x: Any) -> torch.Tensor:
    """Refuse bool and integer image tensors: images are floating point in [-1, 1].

    A uint8/int/bool tensor would be read as values in [-1, 1] and give a silently wrong metric.
    """
    if isinstance(x, torch.Tensor) and not x.is_floating_point():
        raise GanevalTypeError(
            f"Argument `{name}` must be floating-point images in [-1, 1], but got dtype {x.dtype}; "
            "convert uint8 images with x.float() / 127.5 - 1."
        )
    return x
