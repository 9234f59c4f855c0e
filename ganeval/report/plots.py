"""The plots of each metric section, drawn from result records by the metric owners' plot functions.

Each entry is ``(file stem, caption, draw)``; ``draw()`` returns a matplotlib Figure. The
records are the JSON objects of ``results.jsonl`` (see :mod:`ganeval.report.runner`), so a
plot needs nothing that is not in the results file.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["metric_plots"]

PlotSpec = tuple[str, str, Callable[[], Any]]


def _stem(*parts: str) -> str:
    return "-".join(re.sub(r"[^a-z0-9]+", "-", p.lower()).strip("-") or "x" for p in parts)[:80]


def _by_generator(recs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in recs:
        out.setdefault(r["report"]["generator"], []).append(r)
    return out


def _ppl_plots(recs: list[dict[str, Any]]) -> list[PlotSpec]:
    specs = []
    for i, (gen, rs) in enumerate(_by_generator(recs).items()):
        rs = [r for r in rs if r.get("per_sample")]
        if not rs:
            continue

        def draw(rs: list[dict[str, Any]] = rs, gen: str = gen) -> Any:
            from ..plots.ppl import plot_distributions

            series = {f"{r['report']['metric_label']} ({r['config'].get('space', '?').upper()})":
                      np.asarray([v for v in r["per_sample"] if v is not None], dtype=np.float64) for r in rs}
            fig = plot_distributions(series)
            fig.suptitle(gen)
            return fig

        n = ", ".join(f"{r['report']['metric_label']}: n = {len(r['per_sample'])}" for r in rs)
        specs.append((_stem("ppl", str(i), gen), f"{gen}: per-sample path lengths (log scale; {n}), "
                      "before the 1 / 99 percentile filter.", draw))
    return specs


def metric_plots(name: str, recs: list[dict[str, Any]]) -> list[PlotSpec]:
    """The plots of metric section ``name`` for its result records.

    None for metrics without plots, or while the metric's plot module (``ganeval.plots.<name>``)
    is not part of this installation.
    """
    if name == "ppl" and importlib.util.find_spec("ganeval.plots.ppl") is not None:
        return _ppl_plots(recs)
    return []
