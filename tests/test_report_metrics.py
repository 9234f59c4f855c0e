"""The report's metric sections: PPL Z vs W plots, separability bars, FID/KID/PR cells.

One report with every metric is run once on a small random-init 32x32 generator; each test
compares what the report holds (results.jsonl records, the result objects rebuilt from them,
the summary CSV) with the library called directly on the same arguments.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
import torch

import ganeval
from ganeval.report import load_config, parse_config, render_report, run_report
from ganeval.report import runner as report_runner
from ganeval.report.plots import ppl_result, separability_result
from ganeval.report.runner import read_records

SEED = 5


def _sq_l2(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((a - b) ** 2).flatten(1).mean(1)


def _ppl(G, o, *, seed, device):
    # the real ganeval.ppl, with an offline distance (no LPIPS weights in tests)
    return ganeval.ppl(G, **{"seed": seed, "device": device, "distance": _sq_l2, "progress": False, **o})


@pytest.fixture(scope="module")
def generator_file(tmp_path_factory) -> Path:
    from ganeval.models.native import save_generator
    from ganeval.models.stylegan import StyleGAN

    torch.manual_seed(1)
    G = StyleGAN(z_dim=16, w_dim=16, img_resolution=32, fmap_base=64, fmap_max=16, mapping_layers=2).eval()
    return Path(save_generator(G, tmp_path_factory.mktemp("gen") / "tiny32"))


@pytest.fixture(scope="module")
def report(generator_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("metrics") / "rep"
    cfg = parse_config(
        {
            "name": "metrics",
            "out": str(out),
            "seed": SEED,
            "device": "cpu",
            "generators": [{"label": "tiny", "source": str(generator_file)}],
            "metrics": [
                {"name": "ppl", "label": "PPL W", "space": "w", "samples": 100},
                {"name": "ppl", "label": "PPL Z", "space": "z", "samples": 100},
                {
                    "name": "separability",
                    "label": "LS",
                    "samples": 300,
                    "keep": 150,
                    "cache_dir": False,
                    "progress": False,
                },
                {
                    "name": "fid",
                    "label": "FID",
                    "metrics": ["fid", "kid", "pr"],
                    "samples": 200,
                    "cache": False,
                    "progress": False,
                },
            ],
            "figures": {"enabled": False},
        }
    )
    original = report_runner.METRICS["ppl"]
    report_runner.METRICS["ppl"] = _ppl
    try:
        outcome = run_report(cfg)
    finally:
        report_runner.METRICS["ppl"] = original
    assert outcome.num_failures == 0
    rendered = render_report(outcome.results_path)
    records = [r for r in read_records(outcome.results_path) if r["record"] == "metric"]
    G = ganeval.load_generator(str(generator_file), device="cpu")
    return {"out": out, "rendered": rendered, "records": records, "G": G, "config": cfg}


def _record(report, label: str, part: int = 0) -> dict:
    return next(r for r in report["records"] if r["report"]["metric_label"] == label and r["report"]["part"] == part)


def _summary(report) -> dict[str, str]:
    with (report["out"] / "summary.csv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return dict(zip(rows[0], rows[1]))


def test_ppl_records_rebuild_the_result_and_plot_z_vs_w(report):
    G = report["G"]
    for label, space in (("PPL W", "w"), ("PPL Z", "z")):
        direct = _ppl(G, {"space": space, "num_samples": 100}, seed=SEED, device="cpu")
        rebuilt = ppl_result(_record(report, label))
        assert rebuilt.config["space"] == space
        assert rebuilt.value == direct.value
        # the metric's own percentile mask travels in the record; values keep 7 significant digits
        np.testing.assert_array_equal(rebuilt.kept_mask, direct.kept_mask)
        np.testing.assert_allclose(rebuilt.per_sample, direct.per_sample, rtol=6e-7, atol=0)
        # the rebuilt mean of the kept values is the PPL (to the 7-digit rounding)
        assert rebuilt.per_sample[rebuilt.kept_mask].mean() == pytest.approx(direct.value, rel=1e-6)

    page = report["rendered"].index.read_text(encoding="utf-8")
    plot = report["out"] / "plots" / "ppl-0-tiny.png"
    assert plot.is_file() and plot.stat().st_size > 5_000 and 'src="plots/ppl-0-tiny.png"' in page

    from ganeval.plots.ppl import plot_path_lengths

    # the plot function draws both spaces: one dashed line per PPL, at the recorded values
    fig = plot_path_lengths([ppl_result(_record(report, "PPL W")), ppl_result(_record(report, "PPL Z"))])
    dashed = sorted(line.get_xdata()[0] for line in fig.axes[0].lines if line.get_linestyle() == "--")
    expected = sorted(_record(report, lab)["results"]["ppl"] for lab in ("PPL W", "PPL Z"))
    assert dashed == pytest.approx(expected, rel=1e-12)
    assert [t.get_text().split()[0] for t in fig.axes[0].get_legend().get_texts()] == ["W", "Z"]


def test_separability_table_comes_from_the_record(report):
    direct = ganeval.separability(
        report["G"],
        "zoo:shapes-classifier",
        num_samples=300,
        num_keep=150,
        seed=SEED,
        device="cpu",
        cache_dir=False,
        progress=False,
    )
    rec = _record(report, "LS")
    rebuilt = separability_result(rec)
    assert rebuilt.scores() == pytest.approx(direct.scores(), rel=1e-12, nan_ok=True)
    cols = ["attribute", "space", "status"]
    assert rebuilt.table[cols].values.tolist() == direct.table[cols].values.tolist()
    np.testing.assert_allclose(
        rebuilt.table["entropy_bits"].to_numpy(float),
        direct.table["entropy_bits"].to_numpy(float),
        rtol=1e-12,
        equal_nan=True,
    )
    assert float(_summary(report)[f"LS: {direct.metric}"]) == pytest.approx(direct.value, rel=1e-12)
    # the page's summary shows both spaces' scores
    from ganeval.report.renderer import _fmt

    page = (report["out"] / "index.html").read_text(encoding="utf-8")
    scores = direct.scores()
    assert f"Z {_fmt(scores['z'])} \u00b7 W {_fmt(scores['w'])}" in page

    # one bar per (attribute, space) in the chart, heights = the entropies (0 where not scored)
    from ganeval.plots.separability import plot_separability

    fig = plot_separability(rebuilt)
    heights = [p.get_height() for p in fig.axes[0].patches]
    want = np.concatenate(
        [np.nan_to_num(direct.table[direct.table["space"] == s]["entropy_bits"].to_numpy(float)) for s in ("z", "w")]
    )
    np.testing.assert_allclose(heights, want, rtol=1e-12)
    assert (report["out"] / "plots" / "separability-0-tiny.png").is_file()
    per_attr = (report["out"] / "separability-attributes.csv").read_text(encoding="utf-8").splitlines()
    assert len(per_attr) == 1 + len(direct.table)


def test_fid_kid_pr_cells_carry_the_result_names(report):
    from ganeval.metrics.fid import evaluate

    direct = evaluate(
        report["G"],
        "zoo:shapes",
        metrics=["fid", "kid", "pr"],
        num_samples=200,
        seed=SEED,
        device="cpu",
        extractor="zoo:shapes-classifier",
        cache=False,
        progress=False,
    )
    assert [r.metric for r in direct] == ["FD_shapes", "KD_shapes", "precision"]
    summary = _summary(report)
    # the shapes extractor's Fréchet distance is FD_shapes, and the column says so (not "FID" alone)
    assert float(summary["FID: FD_shapes"]) == pytest.approx(direct[0].value, rel=1e-9)
    assert float(summary["FID: KD_shapes"]) == pytest.approx(direct[1].value, rel=1e-9)
    assert float(summary["FID: precision / recall"]) == pytest.approx(direct[2].value, rel=1e-12)
    rec = _record(report, "FID", 2)
    assert rec["extra"]["recall"] == pytest.approx(direct[2].recall, rel=1e-12)
    # the offline defaults were filled in and recorded in the resolved configuration
    fid_spec = next(m for m in report["config"].metrics if m.name == "fid")
    assert fid_spec.options["real"] == "zoo:shapes" and fid_spec.options["extractor"] == "zoo:shapes-classifier"
    table = (report["out"] / "fid.csv").read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[2] for line in table[1:]] == ["FD_shapes", "KD_shapes", "precision"]
    page = report["rendered"].index.read_text(encoding="utf-8")
    assert "<th>FID: FD_shapes<br>" in page


def test_relative_paths_resolve_against_the_config_folder(tmp_path, generator_file, monkeypatch):
    folder = tmp_path / "cfgdir"
    folder.mkdir()
    for suffix in (".safetensors", ".json"):
        (folder / f"gen{suffix}").write_bytes(generator_file.with_suffix(suffix).read_bytes())
    (folder / "r.toml").write_text(
        'name = "rel"\nout = "."\n[[generators]]\nlabel = "g"\nsource = "gen.safetensors"\n[[metrics]]\nname = "fid"\n',
        encoding="utf-8",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cfg = load_config(Path("..") / "cfgdir" / "r.toml")
    assert Path(cfg.out).resolve() == folder.resolve()
    assert Path(cfg.generators[0].source).resolve() == (folder / "gen.safetensors").resolve()
    G = ganeval.load_generator(cfg.generators[0].source, device="cpu")
    assert G.provenance["sha256"] == ganeval.load_generator(str(generator_file), device="cpu").provenance["sha256"]
    assert cfg.metrics[0].options == {"metrics": ["fid"], "real": "zoo:shapes", "extractor": "zoo:shapes-classifier"}
    assert os.path.isabs(cfg.generators[0].source)  # outside the working directory: absolute


def test_multi_result_cell_with_a_failed_generator(tmp_path, generator_file):
    # one fid cell gives two results (two summary columns); a generator that fails to load fills both
    cfg = parse_config(
        {
            "name": "parts",
            "out": str(tmp_path / "rep"),
            "seed": SEED,
            "device": "cpu",
            "generators": [
                {"label": "ok", "source": str(generator_file)},
                {"label": "gone", "source": str(tmp_path / "missing.safetensors")},
            ],
            "metrics": [
                {
                    "name": "fid",
                    "label": "D",
                    "metrics": ["kid", "fid"],
                    "samples": 100,
                    "cache": False,
                    "progress": False,
                }
            ],
            "figures": {"enabled": False},
        }
    )
    outcome = run_report(cfg)
    assert outcome.num_failures == 1
    render_report(outcome.results_path)
    with (outcome.out_dir / "summary.csv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [
        "generator",
        "D: KD_shapes",
        "D: KD_shapes ci_low",
        "D: KD_shapes ci_high",
        "D: FD_shapes",
        "D: FD_shapes ci_low",
        "D: FD_shapes ci_high",
    ]
    from ganeval.metrics.fid import evaluate

    direct = evaluate(
        ganeval.load_generator(str(generator_file), device="cpu"),
        "zoo:shapes",
        metrics=["kid", "fid"],
        num_samples=100,
        seed=SEED,
        device="cpu",
        extractor="zoo:shapes-classifier",
        cache=False,
        progress=False,
    )
    assert [float(rows[1][1]), float(rows[1][4])] == pytest.approx([direct[0].value, direct[1].value], rel=1e-9)
    assert [rows[2][1], rows[2][4]] == ["failed", "failed"]
