"""The named parts of :func:`ganeval.report.runner.run_report`, each on its own."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ganeval.metrics.ppl import PPLResult
from ganeval.report.config import parse_config
from ganeval.report.runner import RESULTS_FILE, _open_folder, _record_problem, metric_line
from ganeval.results import MetricResult

_REPORT = {
    "generator": "G",
    "metric_name": "ppl",
    "metric_label": "PPL W",
    "key": "k" * 64,
    "part": 1,
    "wall_time": 2.5,
    "generator_sha256": "a" * 64,
}


def test_metric_line_is_a_valid_record_with_compact_per_sample_and_kept_mask():
    per = np.array([1.0 / 3.0, np.nan, 123456789.0])
    res = PPLResult(
        metric="ppl",
        value=1.5,
        num_samples=3,
        per_sample=per,
        config={"space": "w"},
        kept_mask=np.array([True, False, True]),
        t=np.zeros(3, np.float32),
    )
    line = metric_line(res, {**_REPORT, "extra_key_is_dropped": 1})
    assert _record_problem(line) is None
    assert line["record"] == "metric" and line["report"] == _REPORT
    assert line["per_sample"] == [0.3333333, None, 123456800.0]  # 7 significant digits, NaN -> null
    assert line["kept_mask"] == [True, False, True] and line["results"] == {"ppl": 1.5}
    json.dumps(line, allow_nan=False)  # strict JSON


def test_metric_line_without_per_sample_or_mask():
    line = metric_line(MetricResult(metric="FID", value=3.0), _REPORT)
    assert line["per_sample"] is None and "kept_mask" not in line


def test_open_folder_groups_reusable_records_by_key_and_refuses_another_report(tmp_path):
    cfg = parse_config(
        {
            "name": "mine",
            "out": str(tmp_path / "out"),
            "generators": [{"label": "G", "source": "zoo:shapes-stylegan"}],
            "metrics": [{"name": "ppl"}],
        }
    )
    out = tmp_path / "out"
    out.mkdir()
    records = [
        metric_line(MetricResult(metric="m", value=float(i)), {**_REPORT, "key": key, "part": i})
        for i, key in enumerate(["a", "a", "b"])
    ]
    records.append({"record": "failure", "report": {"key": "c"}})  # failures are never reused
    (out / RESULTS_FILE).write_text("".join(json.dumps(r) + "\n" for r in records))
    folder, done = _open_folder(cfg, None, force=False)
    assert folder == out and sorted(done) == ["a", "b"] and [r["report"]["part"] for r in done["a"]] == [0, 1]
    run = {
        "record": "run",
        "config": {"name": "other", "metrics": []},
        "generators": [],
        "cells": [],
        "figures": {},
        "provenance": {},
    }
    with (out / RESULTS_FILE).open("a") as f:
        f.write(json.dumps(run) + "\n")
    with pytest.raises(OSError, match="already holds the report 'other'"):
        _open_folder(cfg, None, force=False)
