"""Equivariance figures: per-sample PSNR histograms and image strips (plain, transformed, reference, error).

matplotlib is imported inside the functions; each returns the Figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["plot_psnr", "plot_equivariance_strips"]


def plot_psnr(results: Sequence[Any], *, bins: int = 40, ax: Any = None) -> Any:
    """Histograms of per-sample PSNR (dB) of :class:`~ganeval.metrics.equivariance.EquivarianceResult`
    objects on one axis; the dashed lines mark each pooled value."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5)) if ax is None else (ax.figure, ax)
    finite = [r.per_sample[np.isfinite(r.per_sample)] for r in results]
    lo = min((v.min() for v in finite if len(v)), default=0.0)
    hi = max((v.max() for v in finite if len(v)), default=1.0)
    edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
    for r, v in zip(results, finite):
        line = ax.hist(v, bins=edges, histtype="step", label=f"{r.metric}: {r.value:.2f} dB")[2][0]
        ax.axvline(r.value, ls="--", color=line.get_edgecolor())
    ax.set_xlabel("per-sample PSNR (dB, higher = more equivariant)")
    ax.set_ylabel("samples")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_equivariance_strips(examples: dict[str, Any], *, title: str = "", error_gain: float = 10.0) -> Any:
    """One row per sample: plain image, generator under the transform, the transformed plain image
    (reference), and ``error_gain * |reference - compared|`` inside the valid mask.

    ``examples`` is :func:`ganeval.metrics.equivariance.example_images`'s output.
    """
    import matplotlib.pyplot as plt

    n = len(examples["plain"])
    fig, axes = plt.subplots(n, 4, figsize=(8, 2 * n + 0.4), squeeze=False)

    def to_img(x):
        return ((x.clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy().squeeze()

    for i in range(n):
        err = (examples["reference"][i] - examples["compared"][i]).abs() * examples["mask"][i] * error_gain
        cells = [
            ("plain", to_img(examples["plain"][i])),
            ("transformed", to_img(examples["transformed"][i])),
            ("reference", to_img(examples["reference"][i])),
            (f"|error| x{error_gain:g}: {float(examples['psnr'][i]):.1f} dB", err.mean(0).clamp(0, 1).numpy()),
        ]
        for ax, (label, img) in zip(axes[i], cells):
            ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(label, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
