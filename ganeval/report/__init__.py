"""Batch reports: evaluate several generators and write a self-contained HTML report.

Three steps, each usable alone:

- :func:`load_config` reads the TOML configuration (schema in :mod:`ganeval.report.config`);
- :func:`run_report` evaluates every (generator, metric) cell and draws the analysis figures,
  appending one JSON line per result to ``<out>/results.jsonl`` (results computed before with
  the same configuration are reused);
- :func:`render_report` writes ``index.html``, one CSV per table and the plots from
  ``results.jsonl`` alone (``ganeval report --from results.jsonl``).

>>> from ganeval.report import load_config, run_report, render_report      # doctest: +SKIP
>>> outcome = run_report(load_config("reports/example/report.toml"))        # doctest: +SKIP
>>> render_report(outcome.results_path).index                               # doctest: +SKIP
PosixPath('reports/example/index.html')
"""

from __future__ import annotations

from .config import FigureSpec, GeneratorSpec, MetricSpec, ReportConfig, load_config, parse_config
from .renderer import RenderOutcome, render_report
from .runner import RunOutcome, run_report

__all__ = [
    "ReportConfig",
    "GeneratorSpec",
    "MetricSpec",
    "FigureSpec",
    "load_config",
    "parse_config",
    "run_report",
    "RunOutcome",
    "render_report",
    "RenderOutcome",
]
