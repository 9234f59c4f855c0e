"""Rebuild a :class:`~ganeval.models.stylegan3.StyleGAN3` from an official StyleGAN3 generator state.

The stylegan3 repository's network pickles store ``G_ema`` as a ``torch_utils.persistence``
record of class ``Generator`` whose ``module_src`` is ``training/networks_stylegan3.py``; the
pickle reader (:mod:`.nvidia_torch`) hands this module the record's init kwargs (positional
arguments merged in by name) and its tensors by ``state_dict()`` key. Nothing here executes code
from a file: the generator is ganeval's own, and every tensor is checked against it.

Expected ``init_kwargs`` (as ``train.py`` passes them, so as the pickle stores them):
``z_dim, c_dim, w_dim, img_resolution, img_channels`` (required), ``mapping_kwargs`` (dict:
``num_layers``, ``lr_multiplier``, ``w_avg_beta``), and flat synthesis / layer kwargs
``channel_base, channel_max, num_layers, num_critical, first_cutoff, first_stopband,
last_stopband_rel, margin_size, output_scale, num_fp16_res, conv_kernel, filter_size,
lrelu_upsampling, use_radial_filters, conv_clamp, magnitude_ema_beta`` (all optional, official
defaults). Training-only settings (``w_avg_beta``, ``magnitude_ema_beta``) and the fp16 switch
(``num_fp16_res``; ganeval computes in float32) are accepted and ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from ..errors import CheckpointError
from ..models.stylegan3 import StyleGAN3
from ._common import as_tensor, check_kwargs, load_state_exact

__all__ = ["build_stylegan3", "describe_stylegan3", "is_stylegan3_state"]

_POSITIONAL = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels")
_MAPPING_SUPPORTED = ("num_layers", "lr_multiplier")
_MAPPING_IGNORED = ("w_avg_beta",)
# name -> (type, official default, lower bound, upper bound); bounds keep a corrupt file from
# asking for absurd allocations before anything is built
_SYNTHESIS: dict[str, tuple[type, Any, float, float]] = {
    "channel_base": (int, 32768, 1, 2**20),
    "channel_max": (int, 512, 1, 4096),
    "num_layers": (int, 14, 1, 64),
    "num_critical": (int, 2, 0, 63),
    "first_cutoff": (float, 2.0, 1e-3, 1e4),
    "first_stopband": (float, 2**2.1, 1e-3, 1e4),
    "last_stopband_rel": (float, 2**0.3, 1.0, 16.0),
    "margin_size": (int, 10, 0, 256),
    "output_scale": (float, 0.25, 1e-6, 1e6),
    "conv_kernel": (int, 3, 1, 15),
    "filter_size": (int, 6, 1, 64),
    "lrelu_upsampling": (int, 2, 1, 8),
    "use_radial_filters": (bool, False, 0, 1),
    "conv_clamp": (float, 256.0, 1e-6, 1e9),
}
_SYNTHESIS_IGNORED = ("num_fp16_res", "magnitude_ema_beta")
_DIM_BOUNDS = {
    "z_dim": (1, 4096),
    "c_dim": (0, 100_000),
    "w_dim": (1, 4096),
    "img_resolution": (8, 1024),
    "img_channels": (1, 16),
}


def _number(value: Any, kind: type, *, source: str, name: str, lo: float, hi: float) -> Any:
    """``value`` as ``kind`` (numpy scalars accepted) within [lo, hi], else a CheckpointError."""
    try:
        if kind is bool:
            if not (isinstance(value, bool) or (hasattr(value, "dtype") and value.dtype == bool)):
                raise TypeError
            return bool(value)
        if isinstance(value, bool):
            raise TypeError
        out = kind(value)
        if kind is int and out != value:
            raise TypeError
    except (TypeError, ValueError, OverflowError):
        raise CheckpointError(f"{source}: init kwarg `{name}` must be {kind.__name__}, but got {value!r}.") from None
    if not lo <= out <= hi:
        raise CheckpointError(f"{source}: init kwarg `{name}` must be in [{lo:g}, {hi:g}], but got {value!r}.")
    return out


def stylegan3_kwargs(init_kwargs: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Translate official ``Generator`` init kwargs into :class:`StyleGAN3` arguments (validated)."""
    kwargs = dict(init_kwargs)
    mapping = kwargs.pop("mapping_kwargs", None) or {}
    if not isinstance(mapping, Mapping):
        raise CheckpointError(
            f"{source}: init kwarg `mapping_kwargs` must be a dict, but got {type(mapping).__name__}."
        )
    kwargs.update(kwargs.pop("synthesis_kwargs", None) or {})
    out: dict[str, Any] = {}
    for name in _POSITIONAL:
        if name not in kwargs:
            raise CheckpointError(f"{source}: generator init kwargs must include `{name}`, but it is missing.")
        lo, hi = _DIM_BOUNDS[name]
        out[name] = _number(kwargs.pop(name), int, source=source, name=name, lo=lo, hi=hi)
    check_kwargs(mapping, source=source, what="mapping", supported=_MAPPING_SUPPORTED, ignored=_MAPPING_IGNORED)
    check_kwargs(kwargs, source=source, what="synthesis", supported=_SYNTHESIS, ignored=_SYNTHESIS_IGNORED)
    out["mapping_layers"] = _number(
        mapping.get("num_layers", 2), int, source=source, name="mapping_kwargs.num_layers", lo=1, hi=64
    )
    out["mapping_lr_multiplier"] = _number(
        mapping.get("lr_multiplier", 0.01), float, source=source, name="mapping_kwargs.lr_multiplier", lo=1e-9, hi=1e3
    )
    for name, (kind, default, low, high) in _SYNTHESIS.items():
        value = kwargs.get(name, default)
        out[name] = (
            None
            if (name == "conv_clamp" and value is None)
            else _number(value, kind, source=source, name=name, lo=low, hi=high)
        )
    if out["num_critical"] >= out["num_layers"]:
        raise CheckpointError(
            f"{source}: init kwarg `num_critical` must be smaller than num_layers="
            f"{out['num_layers']}, but got {out['num_critical']}."
        )
    if out["img_resolution"] & (out["img_resolution"] - 1):
        raise CheckpointError(
            f"{source}: init kwarg `img_resolution` must be a power of two, but got {out['img_resolution']}."
        )
    return out


def _check_values(state: Mapping[str, torch.Tensor], source: str) -> None:
    """Every tensor finite; magnitude EMAs positive (they are divided by); filters not all zero."""
    for key, t in state.items():
        if not bool(torch.isfinite(t).all()):
            raise CheckpointError(f"{source}: tensor `{key}` must be finite, but it holds NaN or Inf.")
        if key.endswith("magnitude_ema") and not bool((t > 0).all()):
            raise CheckpointError(f"{source}: tensor `{key}` must be positive (a mean square), but got {t.tolist()}.")
        if key.endswith(("up_filter", "down_filter")) and not bool(t.abs().sum() > 0):
            raise CheckpointError(f"{source}: tensor `{key}` must be a low-pass filter, but it is all zeros.")


def build_stylegan3(init_kwargs: Mapping[str, Any], state: Mapping[str, torch.Tensor], source: str) -> StyleGAN3:
    """A :class:`StyleGAN3` with the official ``G_ema`` init kwargs and ``G_ema.state_dict()`` tensors.

    Args:
        init_kwargs: the generator's init kwargs (see the module docstring); numpy scalars are accepted.
        state: every parameter and buffer by official key (``mapping.fc0.weight``,
            ``synthesis.input.freqs``, ``synthesis.L3_52_16.down_filter``, ...); tensors or arrays.
        source: the file name, used in error messages.

    Raises:
        CheckpointError: unknown or out-of-range kwargs, missing / unexpected keys, wrong shapes
            or non-finite values; one line naming ``source``.
    """
    G = StyleGAN3(**stylegan3_kwargs(init_kwargs, source))
    tensors = {str(k): as_tensor(v, source=source, name=str(k)) for k, v in state.items()}
    load_state_exact(G, tensors, source=source)  # key sets and shapes first: names carry sizes
    _check_values(tensors, source)
    return G.eval().requires_grad_(False)


def is_stylegan3_state(state: Mapping[str, Any]) -> bool:
    """True for a StyleGAN3 generator state dict (it has the Fourier-feature input)."""
    return "synthesis.input.freqs" in state and "synthesis.input.transform" in state


def describe_stylegan3(G: StyleGAN3) -> dict[str, Any]:
    """The ``ganeval info`` summary of a StyleGAN3 generator (see :meth:`StyleGAN3.describe`)."""
    return G.describe()
