"""Style mixing and noise control for any style-based generator.

Works for every generator with the ganeval protocol (StyleGAN v1, StyleGAN2, or a user's
module with ``num_ws`` and, optionally, ``ws_resolutions`` and ``synthesis.noise_resolutions``).

Layer groups follow the StyleGAN paper (arXiv 1812.04948, section 3.1): **coarse** layers act
at 4-8 px (pose, shape), **middle** at 16-32 px (features), **fine** at 64 px and above
(colour scheme, micro-structure).

>>> import torch
>>> from ganeval.models.stylegan import StyleGAN
>>> G = StyleGAN(z_dim=32, w_dim=32, img_resolution=16, fmap_base=64, fmap_max=32)
>>> layer_groups(G)
{'coarse': [0, 1, 2, 3], 'middle': [4, 5], 'fine': []}
>>> ws = G.mapping(torch.randn(2, 32))
>>> mixed = crossover(ws[:1], ws[1:], "coarse", G=G)   # coarse styles from B, the rest from A
>>> noise = make_noise(G, 1, "random", seed=3, layers="middle")
>>> img = G.synthesis(mixed, noise_mode="const", noise=noise)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from .. import _seeding
from .._validate import check_choice, check_finite, check_positive_int
from ..errors import GanevalTypeError, GanevalValueError, UnsupportedGeneratorError

__all__ = [
    "GROUPS",
    "NOISE_STREAM",
    "layer_groups",
    "ws_resolutions",
    "resolve_layers",
    "mix_styles",
    "crossover",
    "make_noise",
]

GROUPS: tuple[str, ...] = ("coarse", "middle", "fine")
NOISE_STREAM = "noise"
NoiseKind = Literal["const", "random", "zero"]
LayerSpec = str | int | Sequence[int]


def _group_of(resolution: int) -> str:
    return "coarse" if resolution <= 8 else "middle" if resolution <= 32 else "fine"


def _groups_from_resolutions(resolutions: Sequence[int]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {g: [] for g in GROUPS}
    for k, r in enumerate(resolutions):
        out[_group_of(int(r))].append(k)
    return out


def ws_resolutions(G: Any) -> list[int]:
    """The resolution (px) each ws index of ``G`` acts at.

    Uses ``G.ws_resolutions`` when present, else the StyleGAN convention ``4 * 2**(k // 2)``
    (capped at ``G.img_resolution``). Raises :class:`UnsupportedGeneratorError` for a generator
    without a W space.
    """
    if int(getattr(G, "num_ws", 0) or 0) <= 0 or not getattr(G, "has_w_space", True):
        raise UnsupportedGeneratorError(
            f"Argument `G` must be a style-based generator with a W space (per-layer styles from a mapping network), "
            f"but {type(G).__name__} has none."
        )
    res = getattr(G, "ws_resolutions", None)
    if res is not None:
        return [int(r) for r in res]
    top = getattr(G, "img_resolution", None)
    return [min(4 * 2 ** (k // 2), top) if top else 4 * 2 ** (k // 2) for k in range(int(G.num_ws))]


def _noise_resolutions(G: Any) -> list[int]:
    res = getattr(getattr(G, "synthesis", None), "noise_resolutions", None)
    if res is None:
        raise UnsupportedGeneratorError(
            f"Argument `G` must expose `synthesis.noise_resolutions` for noise control, "
            f"but {type(G).__name__} does not."
        )
    return [int(r) for r in res]


def layer_groups(G: Any) -> dict[str, list[int]]:
    """The ws indices of each group: ``{"coarse": [...], "middle": [...], "fine": [...]}``.

    coarse: layers acting at 4-8 px; middle: 16-32 px; fine: 64 px and above (empty for
    generators of 32 px or less).
    """
    return _groups_from_resolutions(ws_resolutions(G))


def resolve_layers(spec: LayerSpec, resolutions: Sequence[int], name: str = "layers") -> list[int]:
    """Turn a layer selection into sorted unique indices into ``resolutions``.

    ``spec`` is a group name (``"coarse"``, ``"middle"``, ``"fine"``), an inclusive index range
    ``"A-B"``, a comma list ``"1,3,5"`` (ranges allowed inside), one int, or a sequence of ints.
    """
    n = len(resolutions)
    if isinstance(spec, str):
        text = spec.strip().lower()
        if text in GROUPS:
            return _groups_from_resolutions(resolutions)[text]
        indices: list[int] = []
        try:
            for part in text.split(","):
                a, sep, b = part.strip().partition("-")
                lo, hi = int(a), int(b) if sep else int(a)
                if hi < lo:
                    raise ValueError(part)
                indices.extend(range(lo, hi + 1))
        except ValueError:
            raise GanevalValueError(
                f"Argument `{name}` must be 'coarse', 'middle', 'fine', a range 'A-B' or a list '1,3,5' of layer "
                f"indices, but got {spec!r}."
            ) from None
    elif isinstance(spec, int) and not isinstance(spec, bool):
        indices = [spec]
    elif isinstance(spec, Sequence) and all(isinstance(i, int) and not isinstance(i, bool) for i in spec):
        indices = [int(i) for i in spec]
    else:
        raise GanevalTypeError(
            f"Argument `{name}` must be a group name, a range string or a sequence of ints, but got {spec!r}."
        )
    bad = [i for i in indices if not 0 <= i < n]
    if bad:
        raise GanevalValueError(f"Argument `{name}` must hold layer indices from 0 to {n - 1}, but got {bad}.")
    return sorted(set(indices))


def mix_styles(ws_sources: Sequence[torch.Tensor], layer_source: Sequence[int]) -> torch.Tensor:
    """Per-layer style mixing of several sources.

    Args:
        ws_sources: S tensors ``[N or 1, L, w_dim]`` (batch 1 broadcasts).
        layer_source: L ints; layer ``l`` of the result is taken from ``ws_sources[layer_source[l]]``.

    Returns:
        ws ``[N, L, w_dim]`` (a new tensor; gradients flow to the chosen sources).
    """
    if isinstance(ws_sources, torch.Tensor) or not isinstance(ws_sources, Sequence) or len(ws_sources) == 0:
        raise GanevalTypeError(
            f"Argument `ws_sources` must be a non-empty list of ws tensors [N, L, w_dim], "
            f"but got {type(ws_sources).__name__}."
        )
    first = ws_sources[0]
    for s, ws in enumerate(ws_sources):
        if not isinstance(ws, torch.Tensor) or ws.ndim != 3 or ws.shape[1:] != first.shape[1:]:
            got = list(ws.shape) if isinstance(ws, torch.Tensor) else type(ws).__name__
            raise GanevalValueError(
                f"Argument `ws_sources[{s}]` must have shape [*, {first.shape[1]}, {first.shape[2]}] like "
                f"ws_sources[0], but got {got}."
            )
        check_finite(f"ws_sources[{s}]", ws)
    num_layers = first.shape[1]
    if len(layer_source) != num_layers or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(ws_sources) for i in layer_source
    ):
        raise GanevalValueError(
            f"Argument `layer_source` must hold {num_layers} source indices from 0 to {len(ws_sources) - 1}, "
            f"but got {list(layer_source)}."
        )
    batch = max(ws.shape[0] for ws in ws_sources)
    if any(ws.shape[0] not in (1, batch) for ws in ws_sources):
        raise GanevalValueError(
            f"Argument `ws_sources` must share one batch size (or 1), but got {[ws.shape[0] for ws in ws_sources]}."
        )
    parts = [ws_sources[src][:, k : k + 1].expand(batch, -1, -1) for k, src in enumerate(layer_source)]
    return torch.cat(parts, dim=1)


def crossover(ws_a: torch.Tensor, ws_b: torch.Tensor, layers: LayerSpec, *, G: Any = None) -> torch.Tensor:
    """Copy the styles of ``ws_b`` at ``layers`` into ``ws_a`` (the paper's "styles from source B").

    Args:
        ws_a, ws_b: ``[N or 1, L, w_dim]``.
        layers: ``"coarse"`` | ``"middle"`` | ``"fine"`` | ``"A-B"`` (inclusive ws indices) | list of ints.
        G: the generator, used for the resolution of each ws index; without it index k is
            assumed to act at ``4 * 2**(k // 2)`` px (true for StyleGAN v1 and StyleGAN2).

    Returns:
        ws ``[N, L, w_dim]``.
    """
    if not isinstance(ws_a, torch.Tensor) or ws_a.ndim != 3:
        raise GanevalValueError(f"Argument `ws_a` must be a tensor [N, L, w_dim], but got {_describe(ws_a)}.")
    resolutions = ws_resolutions(G) if G is not None else [4 * 2 ** (k // 2) for k in range(ws_a.shape[1])]
    if len(resolutions) != ws_a.shape[1]:
        raise GanevalValueError(
            f"Argument `ws_a` must have {len(resolutions)} layers (G.num_ws), but got shape {list(ws_a.shape)}."
        )
    chosen = set(resolve_layers(layers, resolutions))
    return mix_styles([ws_a, ws_b], [1 if k in chosen else 0 for k in range(len(resolutions))])


def _describe(x: Any) -> str:
    return f"shape {list(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__


def _const_maps(G: Any, resolutions: Sequence[int]) -> list[torch.Tensor]:
    """The generator's stored per-layer noise maps (buffers named ``*noise_const``), in layer order."""
    maps = [b for name, b in G.synthesis.named_buffers() if name.endswith("noise_const")]
    if len(maps) != len(resolutions) or any(m.shape[-2:] != (r, r) for m, r in zip(maps, resolutions)):
        raise UnsupportedGeneratorError(
            f"Argument `G` must store one `noise_const` buffer per noise layer ({len(resolutions)}), but "
            f"{type(G).__name__} has {len(maps)}; use mode='random' or 'zero'."
        )
    return maps


def make_noise(
    G: Any,
    batch: int,
    mode: NoiseKind = "const",
    seed: int = 0,
    layers: LayerSpec | None = None,
    device: torch.device | str | None = None,
    indices: Sequence[int] | np.ndarray | None = None,
) -> list[torch.Tensor | None]:
    """Per-layer noise maps for ``G.synthesis(ws, noise_mode=..., noise=maps)``.

    Args:
        G: a ganeval generator (``G.synthesis.noise_resolutions`` gives the layers).
        batch: number of samples N.
        mode: ``"const"`` the generator's stored maps, ``"random"`` fresh N(0, 1) maps, ``"zero"``
            zeros (that layer gets no noise).
        seed: random maps of sample ``indices[n]`` at noise layer k come from the counter-based
            stream ``(seed, "noise/k", indices[n])`` (:mod:`ganeval._seeding`), so they do not
            depend on the batch size, nor on which other layers are resampled.
        layers: the noise layers to set (a group name, ``"A-B"``, or ints; groups use each noise
            layer's resolution); ``None`` sets all. Other layers are ``None`` and follow the
            ``noise_mode`` of the synthesis call (``"const"`` keeps them fixed).
        device: where the maps live (default: the generator's device). CPU and CUDA random
            streams differ.
        indices: the global sample index of each row (default ``0..batch-1``).

    Returns:
        one entry per noise layer: ``[N, 1, H, W]`` float32, or ``None``.
    """
    check_positive_int("batch", batch)
    check_choice("mode", mode, ("const", "random", "zero"))
    resolutions = _noise_resolutions(G)
    chosen = range(len(resolutions)) if layers is None else resolve_layers(layers, resolutions)
    if device is None:
        first = next(iter(G.parameters()), None) if isinstance(G, nn.Module) else None
        device = first.device if first is not None else torch.device("cpu")
    device = torch.device(device)
    rows = list(range(batch)) if indices is None else [int(i) for i in indices]
    if len(rows) != batch:
        raise GanevalValueError(f"Argument `indices` must hold {batch} sample indices, but got {len(rows)}.")
    consts = _const_maps(G, resolutions) if mode == "const" else None
    out: list[torch.Tensor | None] = [None] * len(resolutions)
    for k in chosen:
        r = resolutions[k]
        if consts is not None:  # mode "const"
            out[k] = consts[k].to(device, torch.float32).reshape(1, 1, r, r).expand(batch, -1, -1, -1)
        elif mode == "zero":
            out[k] = torch.zeros(1, 1, r, r, device=device).expand(batch, -1, -1, -1)
        else:
            stream = f"{NOISE_STREAM}/{k}"
            out[k] = torch.stack(
                [
                    torch.randn(1, r, r, generator=_seeding.torch_generator(seed, stream, i, device), device=device)
                    for i in rows
                ]
            )
    return out
