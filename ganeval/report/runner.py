"""Evaluate every (generator, metric) of a report configuration and append the results to ``results.jsonl``.

``results.jsonl`` is the only thing the renderer reads (besides the figure files), so every
line is self-describing through its ``record`` key:

- ``"metric"``: a :meth:`MetricResult.to_json_line` object plus ``record``, ``report``
  (generator label, metric label, cache key, part, wall time), ``per_sample`` (the per-sample
  values, 7 significant digits, for the distribution plots) and, for PPL, ``kept_mask`` (which
  samples passed the percentile filter); separability's per-attribute table is in
  ``extra["attributes"]``. One cell may give several lines (``fid`` with
  ``metrics = ["fid", "kid", "pr"]``: one per result, ``part`` 0, 1, 2);
- ``"failure"``: a generator that did not load, an unknown metric, a metric or figure that raised;
- ``"figures"``: the analysis figures of one generator (files relative to the report folder, captions);
- ``"run"``: written last by every run: the resolved configuration, the provenance, each
  generator's hash and the key of every cell. The renderer draws the latest run.

A metric line is reused by a later run when its key (a hash of the generator's sha256, the
metric name, its options and the seed) matches, unless ``force`` is set. Failures are never reused.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import re
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..results import MetricResult, to_jsonable
from .config import KNOWN_METRICS, FigureSpec, MetricSpec, ReportConfig

__all__ = ["run_report", "RunOutcome", "METRICS", "cell_key", "metric_line", "read_records", "RESULTS_FILE"]

RESULTS_FILE = "results.jsonl"

# metric name -> fn(G, options, *, seed, device) -> MetricResult or a sequence of them
MetricRunner = Callable[..., Any]


def _run_ppl(G: Any, options: dict[str, Any], *, seed: int, device: Any) -> Any:
    import ganeval

    return ganeval.ppl(G, **{"seed": seed, "device": device, **options})


def _run_separability(G: Any, options: dict[str, Any], *, seed: int, device: Any) -> Any:
    import ganeval

    opts = dict(options)
    # by name, so the result records the name that loads the classifier again
    return ganeval.separability(
        G, opts.pop("classifier", "zoo:shapes-classifier"), **{"seed": seed, "device": device, **opts}
    )


def _run_fid(G: Any, options: dict[str, Any], *, seed: int, device: Any) -> Any:
    from ..metrics.fid import evaluate

    opts = dict(options)
    real = opts.pop("real")
    return evaluate(G, real, **{"seed": seed, "device": device, **opts})


def _run_equivariance(G: Any, options: dict[str, Any], *, seed: int, device: Any) -> Any:
    from ..metrics.equivariance import equivariance

    return equivariance(G, **{"seed": seed, "device": device, **options})


METRICS: dict[str, MetricRunner] = {
    "ppl": _run_ppl,
    "separability": _run_separability,
    "fid": _run_fid,
    "equivariance": _run_equivariance,
}


@dataclass(frozen=True)
class RunOutcome:
    """What a run produced: the output folder, the results file, and how many cells/figures failed."""

    out_dir: Path
    results_path: Path
    num_failures: int
    num_computed: int
    num_reused: int


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(to_jsonable(obj), sort_keys=True).encode("utf-8")).hexdigest()


def cell_key(generator_id: str, metric: MetricSpec, seed: int) -> str:
    """Cache key of one (generator, metric) cell: sha256 of the generator hash, metric name, options and seed."""
    return _hash({"generator": generator_id, "metric": metric.name, "options": metric.options, "seed": seed})


_MAX_RESULTS_BYTES = 1 << 30


def read_records(path: Path) -> list[dict[str, Any]]:
    """All records of a results file, in order, each checked (a missing file gives an empty list).

    A line that is not JSON, or JSON that is not a record ganeval writes, raises naming the line;
    an unterminated last line (a run killed mid-write by an older version) is skipped with a warning.
    Metric configurations written by 0.1.0 come back with the renamed keys (:func:`ganeval._renamed.upgrade_config`).
    """
    from .._renamed import upgrade_config
    from ..errors import GanevalValueError

    if not path.exists():
        return []
    try:
        if not path.is_file() or path.stat().st_size > _MAX_RESULTS_BYTES:
            raise GanevalValueError(f"{path} must be a results file of at most 1 GiB.")
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GanevalValueError(f"Cannot read {path} as UTF-8 text ({exc}).") from None
    lines = text.split("\n")
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError) as exc:
            if n == len(lines):  # no newline after it: the tail of an interrupted write
                import warnings

                warnings.warn(f"{path}: ignoring the unterminated last line {n} (an interrupted write).", stacklevel=2)
                continue
            raise GanevalValueError(f"{path} line {n} is not valid JSON ({exc}); fix or remove that line.") from None
        problem = _record_problem(rec)
        if problem:
            raise GanevalValueError(
                f"{path} line {n} is not a ganeval results record ({problem}); fix or remove that line."
            )
        if rec["record"] == "metric" and isinstance(rec.get("config"), dict):
            rec["config"] = upgrade_config(rec["config"])  # key names of this release (e.g. protocol -> resize)
        out.append(rec)
    return out


def _record_problem(rec: Any) -> str | None:
    """What makes ``rec`` unusable as a results record, or None (the fields the renderer reads)."""
    if not isinstance(rec, dict):
        return f"a JSON {type(rec).__name__}, not an object"
    kind = rec.get("record")
    if kind not in ("metric", "failure", "figures", "run"):
        return f"its `record` is {kind!r}, not metric, failure, figures or run"
    if kind == "run":
        cfg = rec.get("config")
        if not (
            isinstance(cfg, dict)
            and isinstance(cfg.get("name"), str)
            and isinstance(cfg.get("metrics"), list)
            and all(isinstance(m, dict) and isinstance(m.get("name"), str) for m in cfg["metrics"])
        ):
            return "a run record needs `config` with a `name` and a list of `metrics`"
        if not (
            isinstance(rec.get("generators"), list)
            and all(isinstance(g, dict) and isinstance(g.get("label"), str) for g in rec["generators"])
            and isinstance(rec.get("figures"), dict)
            and isinstance(rec.get("cells"), list)
            and isinstance(rec.get("provenance"), dict)
        ):
            return "a run record needs `generators`, `cells`, `figures` and `provenance`"
        return None
    rep = rec.get("report")
    if not isinstance(rep, dict) or not isinstance(rep.get("key"), str):
        return "it needs a `report` object with a string `key`"
    if kind == "metric":
        part = rep.get("part")
        if not (
            isinstance(part, int)
            and not isinstance(part, bool)
            and part >= 0
            and isinstance(rec.get("metric"), str)
            and isinstance(rec.get("results"), dict)
            and rec["metric"] in rec["results"]
        ):
            return "a metric record needs `metric`, `results[metric]` and `report.part` >= 0"
    if kind == "figures" and not (
        isinstance(rep.get("items"), list)
        and all(isinstance(i, dict) and isinstance(i.get("file"), str) for i in rep["items"])
    ):
        return "a figures record needs `report.items` with a `file` each"
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "x"


def _compact(values: Any) -> list[float | None]:
    # 7 significant digits: the float32 precision the values were computed in, half the bytes
    import numpy as np

    arr = np.asarray(values, dtype=np.float64).ravel()
    return [float(f"{v:.7g}") if np.isfinite(v) else None for v in arr]


def _failure(stage: str, generator: str, metric: str | None, key: str, exc: BaseException) -> dict[str, Any]:
    return {
        "record": "failure",
        "report": {
            "stage": stage,
            "generator": generator,
            "metric_label": metric,
            "key": key,
            "error_type": type(exc).__name__,
            "message": str(exc),
            "traceback": "".join(traceback.format_exception(exc)[-6:]),
        },
    }


class _Log:
    """Appends lines to results.jsonl immediately, so a killed run keeps what it finished.

    Each line is one ``write`` call that is undone when it comes up short (see
    :func:`ganeval._io.append_line`), so the file never ends in half a record.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, record: dict[str, Any]) -> None:
        from .._io import append_line

        append_line(self.path, json.dumps(to_jsonable(record)))


def check_own_folder(out: Path, records: list[dict[str, Any]], name: str, force: bool) -> None:
    """Refuse (without ``force``) a folder holding another report: its files would be overwritten.

    Another report is one whose ``results.jsonl`` records a run of another name; a folder with
    files a report writes (``index.html``, CSV tables, ``plots/``, ``figures/``) but no records is
    not a report folder at all. Other files (the config itself, generator files it names) are
    never written to, so they do not count. Records without a run record are a run killed before
    its end: resumed.
    """
    runs = [r for r in records if r.get("record") == "run"]
    other = None
    if runs:
        other_name = runs[-1]["config"].get("name")
        if other_name != name:
            other = f"the report {other_name!r}"
    elif not records and any(p.name in ("index.html", "plots", "figures") or p.suffix == ".csv" for p in out.iterdir()):
        other = "files that are not a ganeval report (no results.jsonl)"
    if other is not None and not force:
        from ..errors import OutputError

        raise OutputError(
            f"Output folder {out} already holds {other}; choose another --out, or pass --force to overwrite its files."
        )


def _results_of(value: Any, name: str) -> list[MetricResult]:
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if not items or not all(isinstance(r, MetricResult) for r in items):
        raise TypeError(f"metric {name!r} returned {type(value).__name__}, expected MetricResult(s).")
    return items


def _generator_info(G: Any, source: str) -> dict[str, Any]:
    prov = dict(getattr(G, "provenance", {}) or {})
    info = {k: getattr(G, k, None) for k in ("z_dim", "w_dim", "num_ws", "img_resolution", "img_channels", "c_dim")}
    info["arch"] = getattr(G, "arch_name", type(G).__name__)
    info["parameters"] = int(sum(p.numel() for p in G.parameters())) if hasattr(G, "parameters") else None
    return {"sha256": prov.get("sha256"), "format": prov.get("format"), "provenance": prov, "info": info}


def _make_figures(G: Any, spec: FigureSpec, seed: int, folder: Path, rel: str) -> list[dict[str, Any]]:
    from .._io import atomic_write
    from ..viz.analysis import analysis_figures

    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for fig in analysis_figures(
        G,
        seed=seed,
        truncation_psi=spec.truncation,
        grid=spec.grid,
        mixing_rows=spec.mixing_rows,
        mixing_cols=spec.mixing_cols,
        noise_realisations=spec.noise_realisations,
        std_realisations=spec.std_realisations,
        interpolation_steps=spec.interpolation_steps,
        interpolation_pairs=spec.interpolation_pairs,
    ):
        atomic_write(folder / f"{fig.name}.png", fig.save)  # a kill never leaves half a PNG
        items.append(
            {
                "file": f"{rel}/{fig.name}.png",
                "name": fig.name,
                "title": fig.title,
                "caption": fig.caption,
                "width": int(fig.image.shape[1]),
                "height": int(fig.image.shape[0]),
            }
        )
    return items + _equivariance_strips(G, seed, folder, rel)


_STRIPS = {"eqt_int": "integer translation", "eqt_frac": "fractional translation", "eqr": "rotation"}


def _equivariance_strips(G: Any, seed: int, folder: Path, rel: str) -> list[dict[str, Any]]:
    """For generators with an input transform (StyleGAN3): translated and rotated image strips, the
    same draws as samples 0-2 of the equivariance metrics."""
    import matplotlib.pyplot as plt

    from .._io import atomic_write
    from ..metrics.equivariance import example_images, has_input_transform
    from ..plots.equivariance import plot_equivariance_strips

    if not has_input_transform(G):
        return []
    items = []
    for kind, what in _STRIPS.items():
        fig = plot_equivariance_strips(
            example_images(G, kind=kind, indices=[0, 1, 2], seed=seed, device="cpu"), title=f"{kind}: {what}"
        )
        name, dpi = f"equivariance-{kind}", 100
        width, height = (round(v * dpi) for v in fig.get_size_inches())
        atomic_write(folder / f"{name}.png", functools.partial(fig.savefig, format="png", dpi=dpi))
        plt.close(fig)
        items.append(
            {
                "file": f"{rel}/{name}.png",
                "name": name,
                "title": f"Equivariance: {what}",
                "caption": f"Samples 0-2 of {kind} (seed {seed}): the plain image, the generator's output under "
                "the transformed input, the plain image transformed (reference), and 10x the error "
                "inside the valid pixels, with each sample's PSNR.",
                "width": width,
                "height": height,
            }
        )
    return items


def run_report(
    config: ReportConfig,
    *,
    out_dir: str | Path | None = None,
    force: bool = False,
    device: str | None = None,
    log: Callable[[str], None] | None = None,
) -> RunOutcome:
    """Evaluate every (generator, metric) cell and draw the figures; append everything to results.jsonl.

    Args:
        config: the resolved configuration (see :func:`ganeval.report.load_config`).
        out_dir: output folder (default ``config.out``).
        force: recompute cells and figures even when ``results.jsonl`` already holds them.
        device: overrides ``config.device``.
        log: progress messages (e.g. ``click.echo(..., err=True)``); silent when ``None``.

    A generator that fails to load, an unknown metric and a metric that raises are recorded
    as failures; the run carries on with the other cells.
    """
    from ..devices import resolve_device

    t_run = time.perf_counter()
    out, done = _open_folder(config, out_dir, force)
    ctx = _Context(
        config=config,
        out=out,
        dev=resolve_device(device or config.device),
        done=done,
        force=force,
        sink=_Log(out / RESULTS_FILE),
        say=log or (lambda msg: None),
    )
    tally = _Tally()
    for gspec in config.generators:
        _evaluate_generator(ctx, gspec, tally)
    ctx.sink.append(_run_record(ctx, device, tally, time.perf_counter() - t_run))
    return RunOutcome(
        out_dir=out,
        results_path=out / RESULTS_FILE,
        num_failures=tally.failures,
        num_computed=tally.computed,
        num_reused=tally.reused,
    )


@dataclass(frozen=True)
class _Context:
    """What every step of one run reads: the configuration, the output folder, the device, the records
    of earlier runs that may be reused (by key), ``force``, the results sink and the progress log."""

    config: ReportConfig
    out: Path
    dev: Any
    done: dict[str, list[dict[str, Any]]]
    force: bool
    sink: _Log
    say: Callable[[str], None]


@dataclass
class _Tally:
    """What one run has written so far: the run record's generator entries, cells and figure keys, and counts."""

    generators: list[dict[str, Any]] = field(default_factory=list)
    cells: list[dict[str, Any]] = field(default_factory=list)
    figures: dict[str, str] = field(default_factory=dict)
    failures: int = 0
    computed: int = 0
    reused: int = 0


def _open_folder(
    config: ReportConfig, out_dir: str | Path | None, force: bool
) -> tuple[Path, dict[str, list[dict[str, Any]]]]:
    """The checked output folder and its reusable records (metric and figure lines by key)."""
    from .._io import check_writable_dir

    out = check_writable_dir(Path(out_dir) if out_dir is not None else config.out)
    previous = read_records(out / RESULTS_FILE)
    check_own_folder(out, previous, config.name, force)
    done: dict[str, list[dict[str, Any]]] = {}
    for rec in previous:
        if rec.get("record") in ("metric", "figures"):
            done.setdefault(rec["report"]["key"], []).append(rec)
    return out, done


def _evaluate_generator(ctx: _Context, gspec: Any, tally: _Tally) -> None:
    """Load one generator, then evaluate its metric cells and draw its figures (a load failure fails them all)."""
    from ..loaders import resolve_generator

    gentry: dict[str, Any] = {"label": gspec.label, "source": gspec.source}
    tally.generators.append(gentry)
    ctx.say(f"[{gspec.label}] loading {gspec.source}")
    try:
        G = resolve_generator(gspec.source, ctx.dev, argument="source")
    except Exception as exc:
        key = f"load-{uuid.uuid4().hex[:16]}"  # an id, not a cache key: load failures are retried
        ctx.sink.append(_failure("load", gspec.label, None, key, exc))
        tally.failures += 1
        gentry.update(status="failed", key=key)
        tally.cells += [{"generator": gspec.label, "metric_label": m.label, "key": key} for m in ctx.config.metrics]
        if ctx.config.figures.enabled:
            tally.figures[gspec.label] = key
        return
    gentry.update(status="ok", **_generator_info(G, gspec.source))
    gid = gentry["sha256"] or f"source:{gspec.source}"
    for mspec in ctx.config.metrics:
        _evaluate_cell(ctx, G, gspec.label, gid, gentry["sha256"], mspec, tally)
    if ctx.config.figures.enabled:
        _draw_figures(ctx, G, gspec.label, gid, tally)


def _evaluate_cell(
    ctx: _Context, G: Any, label: str, gid: str, sha256: str | None, mspec: MetricSpec, tally: _Tally
) -> None:
    """One (generator, metric) cell: reused from an earlier run when its key matches, else computed
    and appended (one line per result), or recorded as a failure."""
    key = cell_key(gid, mspec, ctx.config.seed)
    tally.cells.append({"generator": label, "metric_label": mspec.label, "key": key})
    if key in ctx.done and not ctx.force and all(r["record"] == "metric" for r in ctx.done[key]):
        ctx.say(f"[{label}] {mspec.label}: reusing result {key[:12]}")
        tally.reused += 1
        return
    runner = METRICS.get(mspec.name)
    ctx.say(f"[{label}] {mspec.label}: computing")
    t0 = time.perf_counter()
    try:
        if runner is None:
            from ..errors import GanevalValueError

            raise GanevalValueError(
                f"Config metric `name` must be one of {', '.join(KNOWN_METRICS)}, but got {mspec.name!r}."
            )
        results = _results_of(runner(G, dict(mspec.options), seed=ctx.config.seed, device=ctx.dev), mspec.name)
    except Exception as exc:
        ctx.sink.append(_failure("metric", label, mspec.label, key, exc))
        tally.failures += 1
        return
    report = {
        "generator": label,
        "metric_name": mspec.name,
        "metric_label": mspec.label,
        "key": key,
        "wall_time": time.perf_counter() - t0,
        "generator_sha256": sha256,
    }
    for part, res in enumerate(results):
        ctx.sink.append(metric_line(res, {**report, "part": part}))
    tally.computed += 1


def metric_line(res: MetricResult, report: dict[str, Any]) -> dict[str, Any]:
    """The ``"metric"`` record of one result: its JSON line plus ``record``, ``report`` (generator label,
    metric name and label, key, part, wall time, generator hash), the compacted ``per_sample`` values
    and, for PPL, ``kept_mask``."""
    line = json.loads(res.to_json_line(include_per_sample=True))
    line["record"] = "metric"
    line["report"] = {
        k: report[k]
        for k in ("generator", "metric_name", "metric_label", "key", "part", "wall_time", "generator_sha256")
    }
    line["per_sample"] = None if res.per_sample is None else _compact(res.per_sample)
    kept = getattr(res, "kept_mask", None)
    if kept is not None:
        line["kept_mask"] = [bool(k) for k in kept]
    return line


def _draw_figures(ctx: _Context, G: Any, label: str, gid: str, tally: _Tally) -> None:
    """The generator's analysis figures: reused while the earlier run's files are all there, else drawn."""
    fkey = _hash({"generator": gid, "figures": ctx.config.figures, "seed": ctx.config.seed})
    tally.figures[label] = fkey
    prev = ctx.done.get(fkey, [])
    if prev and not ctx.force and all((ctx.out / it["file"]).is_file() for it in prev[-1]["report"]["items"]):
        ctx.say(f"[{label}] figures: reusing {fkey[:12]}")
        return
    ctx.say(f"[{label}] figures: drawing")
    rel = f"figures/{_slug(label)}-{fkey[:8]}"
    t0 = time.perf_counter()
    try:
        items = _make_figures(G, ctx.config.figures, ctx.config.seed, ctx.out / rel, rel)
    except Exception as exc:
        ctx.sink.append(_failure("figures", label, None, fkey, exc))
        tally.failures += 1
        return
    ctx.sink.append(
        {
            "record": "figures",
            "report": {"generator": label, "key": fkey, "items": items, "wall_time": time.perf_counter() - t0},
        }
    )


def _run_record(ctx: _Context, device: str | None, tally: _Tally, wall: float) -> dict[str, Any]:
    """The ``"run"`` record written last: the resolved configuration, provenance, generators, cells, figures."""
    import numpy as np
    import torch

    from .. import __version__

    dev = ctx.dev
    return {
        "record": "run",
        "config": ctx.config.to_dict() | {"out": str(ctx.out), "device": device or ctx.config.device},
        "provenance": {
            "versions": {
                "ganeval": __version__,
                "torch": torch.__version__,
                "numpy": np.__version__,
                "python": platform.python_version(),
            },
            "platform": platform.platform(),
            "device": str(dev),
            "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor(),
            "argv": sys.argv[1:],
            "timestamp": time.time(),
            "wall_time": wall,
        },
        "generators": tally.generators,
        "cells": tally.cells,
        "figures": tally.figures,
        "summary": {"failures": tally.failures, "computed": tally.computed, "reused": tally.reused},
    }
