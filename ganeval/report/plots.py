"""The plots of each metric section, drawn from result records by the metric owners' plot functions.

Each entry is ``(file stem, caption, draw)``; ``draw()`` returns a matplotlib Figure. The
records are the JSON objects of ``results.jsonl`` (see :mod:`ganeval.report.runner`); the
result objects the plot functions read are rebuilt from them (:func:`ppl_result`,
:func:`separability_result`), so a plot needs nothing that is not in the results file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["metric_plots", "ppl_result", "separability_result"]

PlotSpec = tuple[str, str, Callable[[], Any]]


def _stem(*parts: str) -> str:
    return "-".join(re.sub(r"[^a-z0-9]+", "-", p.lower()).strip("-") or "x" for p in parts)[:80]


def _by_generator(recs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in recs:
        out.setdefault(r["report"]["generator"], []).append(r)
    return out


def _with_per_sample(recs: list[dict[str, Any]]) -> Iterator[tuple[int, str, list[dict[str, Any]]]]:
    """(index, generator, its records that carry per-sample values), generators in order of appearance."""
    for i, (gen, rs) in enumerate(_by_generator(recs).items()):
        rs = [r for r in rs if r.get("per_sample")]
        if rs:
            yield i, gen, rs


def _float(v: Any) -> float:
    # JSON has no NaN: to_jsonable wrote None for it
    return math.nan if v is None else float(v)


def ppl_result(rec: dict[str, Any]) -> Any:
    """A :class:`~ganeval.metrics.ppl.PPLResult` rebuilt from its ``results.jsonl`` record.

    ``per_sample`` is float64 ``[n]`` (NaN where the pair was skipped), ``kept_mask`` bool ``[n]``
    (the runner stores the metric's own mask; without it, the percentile filter is re-applied
    to the finite values).
    """
    from ..metrics.ppl import PPLResult, percentile_filter

    d = np.array([_float(v) for v in rec["per_sample"]], dtype=np.float64)
    if rec.get("kept_mask") is not None:
        kept = np.asarray(rec["kept_mask"], dtype=bool)
    else:
        finite = np.isfinite(d)
        kept = np.zeros(len(d), dtype=bool)
        kept[finite] = percentile_filter(d[finite])
    ci = rec.get("ci95") or [None, None]
    return PPLResult(
        metric=rec["metric"],
        value=_float(rec["results"][rec["metric"]]),
        std=rec.get("std"),
        ci_low=ci[0],
        ci_high=ci[1],
        num_samples=int(rec.get("num_samples") or 0),
        higher_is_better=bool(rec.get("higher_is_better", False)),
        per_sample=d,
        config=dict(rec.get("config") or {}),
        provenance=dict(rec.get("provenance") or {}),
        extra=dict(rec.get("extra") or {}),
        kept_mask=kept,
    )


def separability_result(rec: dict[str, Any]) -> Any:
    """A :class:`~ganeval.metrics.separability.SeparabilityResult` rebuilt from its record.

    The per-(attribute, space) table comes from ``extra["attributes"]`` (entropies in bits; NaN
    where an attribute was not scored); the SVM normals are not in the record (``{}``).
    """
    import pandas as pd

    from ..metrics.separability import SeparabilityResult

    extra = dict(rec.get("extra") or {})
    for k in [k for k in extra if k.startswith("score_")]:
        extra[k] = _float(extra[k])
    table = pd.DataFrame(extra.get("attributes") or [])
    for col in ("entropy_bits", "svm_train_acc", "heldout_acc", "heldout_entropy_bits", "class_balance"):
        if col in table:
            table[col] = pd.to_numeric(table[col], errors="coerce").astype(np.float64)
    return SeparabilityResult(
        metric=rec["metric"],
        value=_float(rec["results"][rec["metric"]]),
        num_samples=int(rec.get("num_samples") or 0),
        higher_is_better=bool(rec.get("higher_is_better", False)),
        config=dict(rec.get("config") or {}),
        provenance=dict(rec.get("provenance") or {}),
        extra=extra,
        table=table,
        normals={},
    )


def _ppl_plots(recs: list[dict[str, Any]]) -> list[PlotSpec]:
    """One histogram per generator: every PPL column of it (e.g. Z and W) on one log axis."""
    specs: list[PlotSpec] = []
    for i, gen, rs in _with_per_sample(recs):

        def draw(rs: list[dict[str, Any]] = rs, gen: str = gen) -> Any:
            from ..plots.ppl import plot_path_lengths

            results = {}
            for r in rs:
                res = ppl_result(r)
                label, space = r["report"]["metric_label"], str(res.config.get("space", "?")).upper()
                named = space in re.split(r"[^A-Z]+", label.upper())
                results[f"{label}{'' if named else f' [{space}]'}  (PPL {res.value:.3g})"] = res
            fig = plot_path_lengths(results)
            fig.axes[0].set_title(f"{gen}: {fig.axes[0].get_title()}", fontsize=10)
            return fig

        n = "; ".join(
            f"{r['report']['metric_label']}: n = {len(r['per_sample'])}, seed "
            f"{(r.get('config') or {}).get('seed', '?')}"
            for r in rs
        )
        specs.append(
            (
                _stem("ppl", str(i), gen),
                f"{gen}: per-sample path lengths d / eps\u00b2 ({n}), log scale. Dashed lines: each PPL (mean "
                "of the kept samples); dotted lines: the 1 / 99 percentile bounds of the first column.",
                draw,
            )
        )
    return specs


def _separability_plots(recs: list[dict[str, Any]]) -> list[PlotSpec]:
    """One bar chart per (generator, column): per-attribute entropy in Z and W."""
    specs: list[PlotSpec] = []
    for i, r in enumerate(recs):
        if not (r.get("extra") or {}).get("attributes"):
            continue
        gen, label = r["report"]["generator"], r["report"]["metric_label"]

        def draw(r: dict[str, Any] = r, gen: str = gen, label: str = label) -> Any:
            from ..plots.separability import plot_separability

            return plot_separability(separability_result(r), title=f"{gen}: {label} ({r['metric']}); lower is better")

        cfg = r.get("config") or {}
        specs.append(
            (
                _stem("separability", str(i), gen),
                f"{gen}: conditional entropy H(Y | X) in bits per attribute, for each latent space "
                f"({cfg.get('num_samples', '?')} samples, the {cfg.get('num_keep', '?')} most confident kept "
                f"per attribute, seed {cfg.get('seed', '?')}); \u00d7 marks an attribute that was not scored.",
                draw,
            )
        )
    return specs


def _equivariance_plots(recs: list[dict[str, Any]]) -> list[PlotSpec]:
    """One histogram per generator: per-sample PSNR of each of its equivariance columns."""
    specs: list[PlotSpec] = []
    for i, gen, rs in _with_per_sample(recs):

        def draw(rs: list[dict[str, Any]] = rs, gen: str = gen) -> Any:
            from types import SimpleNamespace

            from ..plots.equivariance import plot_psnr

            fig = plot_psnr(
                [
                    SimpleNamespace(
                        metric=f"{r['report']['metric_label']} ({r['metric']})",
                        value=_float(r["results"][r["metric"]]),
                        per_sample=np.array([_float(v) for v in r["per_sample"]]),
                    )
                    for r in rs
                ]
            )
            fig.axes[0].set_title(f"{gen}: per-sample PSNR; higher is better", fontsize=10)
            return fig

        n = "; ".join(f"{r['report']['metric_label']}: n = {len(r['per_sample'])}" for r in rs)
        specs.append(
            (
                _stem("equivariance", str(i), gen),
                f"{gen}: per-sample PSNR in dB of the output under a transformed input against the "
                f"transformed output ({n}); dashed lines: the pooled value of each column.",
                draw,
            )
        )
    return specs


def metric_plots(name: str, recs: list[dict[str, Any]]) -> list[PlotSpec]:
    """The plots of metric section ``name`` for its result records (none for metrics without plots)."""
    if name == "ppl":
        return _ppl_plots(recs)
    if name == "separability":
        return _separability_plots(recs)
    if name == "equivariance":
        return _equivariance_plots(recs)
    return []
