"""PPL figures: per-sample path-length distributions and interpolation strips.

matplotlib is imported inside the functions; each returns the Figure and accepts ``ax=None``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from .._names import display_name

__all__ = ["plot_path_lengths", "plot_interpolation_strips"]


def plot_path_lengths(results: Mapping[str, Any] | Sequence[Any], *, bins: int = 60, ax: Any = None) -> Any:
    """Histograms of per-sample path lengths (e.g. Z and W) on one log-scaled x axis.

    Args:
        results: :class:`~ganeval.metrics.ppl.PPLResult` objects, as a list (labelled by their
            space) or a ``{label: result}`` mapping.
        bins: log-spaced bins shared by every histogram.
        ax: a matplotlib Axes to draw on; ``None`` creates a figure.

    The dashed line marks each result's PPL (mean of the kept values); the dotted lines bound the
    1 / 99 percentile filter of the first result.
    """
    import matplotlib.pyplot as plt

    items = (
        list(results.items())
        if isinstance(results, Mapping)
        else [(f"{r.config.get('space', '?').upper()}  (PPL {r.value:.3g})", r) for r in results]
    )
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 3.6), constrained_layout=True)
    else:
        fig = ax.figure
    values = [np.asarray(r.per_sample, dtype=np.float64) for _, r in items]
    positive = np.concatenate([v[v > 0] for v in values])
    if positive.size == 0:  # e.g. a generator that ignores its latent: every distance is 0
        positive = np.array([1e-12, 1.0])
    edges = np.geomspace(positive.min(), positive.max(), bins + 1)
    for (label, r), v in zip(items, values):
        line = ax.hist(v[v > 0], bins=edges, histtype="stepfilled", alpha=0.35, label=label)
        color = line[2][0].get_facecolor()
        ax.axvline(r.value, color=color, linestyle="--", alpha=1.0)
    first = items[0][1]
    if first.kept_mask is not None:
        kept = np.asarray(first.per_sample)[first.kept_mask]
        for bound in (kept.min(), kept.max()):
            ax.axvline(bound, color="0.4", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("path length  d(G(t), G(t + eps)) / eps^2  (log scale)")
    ax.set_ylabel("samples")
    dist = display_name(first.config, "distance") if first.config.get("distance") else "?"
    ax.set_title(textwrap.fill(f"Per-sample perceptual path lengths ({dist})", 72), fontsize=9)
    ax.legend(fontsize=8)
    return fig


def _to_grid(images: torch.Tensor) -> np.ndarray:
    """``[P, S, C, H, W]`` in [-1, 1] -> an HWC float array in [0, 1] with 1 px gaps."""
    p, s, c, h, w = images.shape
    x = ((images.clamp(-1, 1) + 1) / 2).cpu().numpy()
    if c == 1:
        x = np.repeat(x, 3, axis=2)
    grid = np.ones((p * (h + 1) - 1, s * (w + 1) - 1, 3), dtype=np.float32)
    for i in range(p):
        for j in range(s):
            grid[i * (h + 1) : i * (h + 1) + h, j * (w + 1) : j * (w + 1) + w] = x[i, j, :3].transpose(1, 2, 0)
    return grid


def plot_interpolation_strips(
    G: Any,
    *,
    pairs: Sequence[int] = (0, 1, 2, 3),
    steps: int = 7,
    seed: int = 0,
    device: str | torch.device = "cpu",
    ax: Any = None,
) -> Any:
    """Images along the PPL paths of a few pairs: slerp in Z (left) and lerp in W (right).

    Each row is one pair (same z0, z1 and noise as :func:`ganeval.ppl` with that ``seed``), from
    t = 0 to t = 1 in ``steps`` steps. W is drawn only when ``G`` has a mapping network.
    """
    import matplotlib.pyplot as plt

    from ..errors import UnsupportedGeneratorError
    from ..metrics.ppl import path_images

    z = _to_grid(path_images(G, space="z", indices=pairs, steps=steps, seed=seed, device=device))
    try:
        w = _to_grid(path_images(G, space="w", indices=pairs, steps=steps, seed=seed, device=device))
    except UnsupportedGeneratorError:
        w = None
    if ax is None:
        fig, ax = plt.subplots(
            figsize=(1.0 * steps * (2 if w is not None else 1) + 0.6, 1.0 * len(pairs) + 0.8), constrained_layout=True
        )
    else:
        fig = ax.figure
    if w is not None:
        gap = np.ones((z.shape[0], max(4, z.shape[1] // 40), 3), dtype=np.float32)
        picture = np.concatenate([z, gap, w], axis=1)
        title = "Interpolation paths: Z (slerp, left) | W (lerp, right); rows = pairs, t = 0 .. 1"
    else:
        picture, title = z, "Interpolation paths in Z (slerp); rows = pairs, t = 0 .. 1"
    ax.imshow(picture, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
    return fig
