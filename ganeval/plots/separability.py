"""Bar chart of per-attribute conditional entropy H(Y|X), one bar per latent space (Z vs W)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_separability"]


def plot_separability(result: Any, ax: Any = None, *, title: str | None = None) -> Any:
    """Per-attribute entropy bars (bits; lower = more linearly separable) for each evaluated space.

    Attributes that were not scored (constant, single class, failed fit) show no bar and are
    marked with "x" under the axis, so they are never mistaken for a perfect (zero) entropy.

    Args:
        result: a :class:`~ganeval.metrics.separability.SeparabilityResult`.
        ax: matplotlib Axes to draw into; a new Figure when ``None``.
        title: plot title; default names the metric and its direction (the legend gives the score per space).

    Returns:
        the matplotlib Figure.
    """
    if ax is None:
        from matplotlib.figure import Figure

        n_attr = result.table["attribute"].nunique()
        fig = Figure(figsize=(max(6.0, 0.35 * n_attr + 2.0), 3.6), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    table = result.table
    attrs = list(dict.fromkeys(table["attribute"]))
    spaces = list(dict.fromkeys(table["space"]))
    x = np.arange(len(attrs))
    width = 0.8 / max(len(spaces), 1)
    colours = {"z": "#8c8c8c", "w": "#1f77b4"}
    scores = result.scores()
    for k, space in enumerate(spaces):
        sub = table[table["space"] == space].set_index("attribute").reindex(attrs)
        ent = sub["entropy_bits"].to_numpy(dtype=float)
        pos = x + (k - (len(spaces) - 1) / 2) * width
        ax.bar(
            pos,
            np.nan_to_num(ent, nan=0.0),
            width,
            color=colours.get(space),
            alpha=0.9,
            label=f"{space.upper()} (score {scores.get(space, float('nan')):.3g})",
        )
        missing = np.isnan(ent)
        if missing.any():
            ax.plot(
                pos[missing],
                np.zeros(missing.sum()),
                "x",
                color="crimson",
                clip_on=False,
                label=f"{space.upper()}: not scored",
            )
    ax.set_xticks(x, attrs, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("H(Y | X)  [bits]")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, frameon=False)
    ax.set_title(title or f"Linear separability ({result.metric}); lower is better", fontsize=10)
    return fig
