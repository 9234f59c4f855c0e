"""The HTML report: escaping, failure cells, reuse of results, re-rendering from JSONL, config, CLI."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import ganeval
from ganeval.errors import GanevalValueError
from ganeval.report import load_config, parse_config, render_report, run_report
from ganeval.report import runner as report_runner

HOSTILE = '<script>alert("x")</script>&'


def _sq_l2(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((a - b) ** 2).flatten(1).mean(1)


@pytest.fixture(scope="module")
def generator_file(tmp_path_factory) -> Path:
    from ganeval.models.native import save_generator
    from ganeval.models.stylegan import StyleGAN

    torch.manual_seed(0)
    G = StyleGAN(z_dim=16, w_dim=16, img_resolution=16, fmap_base=64, fmap_max=16, mapping_layers=2).eval()
    return Path(save_generator(G, tmp_path_factory.mktemp("gen") / "tiny"))


@pytest.fixture
def counted_ppl(monkeypatch):
    """The real ganeval.ppl with an offline squared-L2 distance, counting its calls."""
    calls = []

    def run(G, options, *, seed, device):
        calls.append(dict(options))
        return ganeval.ppl(G, **{"seed": seed, "device": device, "distance": _sq_l2, "progress": False, **options})

    monkeypatch.setitem(report_runner.METRICS, "ppl", run)
    return calls


def _config(tmp_path: Path, generator_file: Path, **over) -> dict:
    cfg = {
        "name": "test " + HOSTILE,
        "out": str(tmp_path / "rep"),
        "seed": 3,
        "device": "cpu",
        "generators": [{"label": "tiny " + HOSTILE, "source": str(generator_file)}],
        "metrics": [
            {"name": "ppl", "label": "PPL W", "space": "w", "samples": 100},
            {"name": "ppl", "label": "PPL Z", "space": "z", "samples": 100},
        ],
        "figures": {"enabled": False},
    }
    cfg.update(over)
    return cfg


def _summary_cells(index: Path) -> list[list[str]]:
    text = index.read_text(encoding="utf-8")
    body = text.split('id="summary-table"')[1].split("</table>")[0]
    rows = re.findall(r'<tr class="generator-row">(.*?)</tr>', body, re.S)
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)]
        for r in rows
    ]


def test_report_values_reuse_rerender_and_escaping(tmp_path, generator_file, counted_ppl):
    cfg = parse_config(_config(tmp_path, generator_file))
    first = run_report(cfg)
    assert (first.num_computed, first.num_reused, first.num_failures) == (2, 0, 0)
    assert len(counted_ppl) == 2
    out = render_report(first.results_path)
    assert out.num_failures == 0

    # the summary cell is the value the library computes for the same arguments
    G = ganeval.load_generator(str(generator_file), device="cpu")
    direct = ganeval.ppl(G, space="w", num_samples=100, seed=3, device="cpu", distance=_sq_l2, progress=False)
    rows = _summary_cells(out.index)
    assert len(rows) == 1 and rows[0][0] == "tiny " + HOSTILE
    assert rows[0][1].startswith(f"{direct.value:.4g} [")
    summary = (first.out_dir / "summary.csv").read_text().splitlines()
    assert float(summary[1].split(",")[1]) == pytest.approx(direct.value, rel=1e-12)

    # hostile strings from the config are escaped everywhere in the page
    page = out.index.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert not re.search(r'(src|href)="(https?:)?//', page), "the page must not load network resources"

    # same configuration: nothing recomputed; the same tables (only the run's own wall time differs)
    first_page = page
    first_tables = [(first.out_dir / n).read_bytes() for n in ("summary.csv", "ppl.csv")]
    second = run_report(cfg)
    assert (second.num_computed, second.num_reused) == (0, 2) and len(counted_ppl) == 2
    render_report(second.results_path)
    assert [(first.out_dir / n).read_bytes() for n in ("summary.csv", "ppl.csv")] == first_tables
    first_page = render_report(second.results_path).index.read_text(encoding="utf-8")

    # re-rendering from the JSONL alone (into a fresh folder) gives the same page and tables
    again = render_report(first.results_path, out_dir=tmp_path / "copy")
    assert again.index.read_text(encoding="utf-8") == first_page
    for name in ("summary.csv", "ppl.csv", "weights.csv"):
        assert (tmp_path / "copy" / name).read_bytes() == (first.out_dir / name).read_bytes()

    # a changed option is a new cell; --force recomputes everything
    cfg2 = parse_config(
        _config(tmp_path, generator_file, metrics=[{"name": "ppl", "label": "PPL W", "space": "w", "samples": 120}])
    )
    assert run_report(cfg2).num_computed == 1 and len(counted_ppl) == 3
    assert run_report(cfg2, force=True).num_computed == 1 and len(counted_ppl) == 4


def test_failure_cells(tmp_path, generator_file, counted_ppl):
    cfg = parse_config(
        _config(
            tmp_path,
            generator_file,
            generators=[
                {"label": "good", "source": str(generator_file)},
                {"label": "missing " + HOSTILE, "source": str(tmp_path / "nope.safetensors")},
            ],
            metrics=[
                {"name": "ppl", "label": "PPL W", "space": "w", "samples": 100},
                {"name": "ppl", "label": "bad eps", "space": "w", "samples": 100, "epsilon": -1.0},
                {"name": "no-such-metric"},
            ],
        )
    )
    outcome = run_report(cfg)
    # one load failure (shared by that generator's cells), one metric error, one unknown metric
    assert outcome.num_failures == 3 and outcome.num_computed == 1
    rendered = render_report(outcome.results_path)
    assert rendered.num_failures == 3
    rows = _summary_cells(rendered.index)
    assert [r[0] for r in rows] == ["good", "missing " + HOSTILE]
    assert rows[0][2] == "failed" and rows[0][3] == "failed" and rows[0][1][0].isdigit()
    assert rows[1][1:] == ["generator failed to load"] * 3
    failures = (outcome.out_dir / "failures.csv").read_text()
    assert "epsilon" in failures and "no-such-metric" in failures and "load" in failures
    page = rendered.index.read_text()
    assert "<script>" not in page
    # every failure link in the summary points at an anchor in the failures section
    for target in re.findall(r'href="#(failure-[^"]+)"', page):
        assert f'id="{target}"' in page
    # failures are not reused: a second run retries them
    assert run_report(cfg).num_failures == 3


def test_cli_report_exit_codes(tmp_path, generator_file, counted_ppl):
    from ganeval.cli import run

    cfg_path = tmp_path / "r.toml"
    cfg_path.write_text(
        f'name = "cli"\nout = "{tmp_path / "cli"}"\ndevice = "cpu"\n'
        f'[[generators]]\nlabel = "a"\nsource = "{generator_file}"\n'
        '[[metrics]]\nname = "ppl"\nspace = "w"\nsamples = 100\n'
        "[figures]\nenabled = false\n"
    )
    assert run(["report", str(cfg_path)]) == 0
    assert run(["report", "--from", str(tmp_path / "cli" / "results.jsonl")]) == 0
    cfg_path.write_text(cfg_path.read_text().replace('name = "ppl"', 'name = "pll"'))
    assert run(["report", str(cfg_path)]) == 1
    assert run(["report"]) == 2  # no config: one-line error


def test_config_validation(tmp_path):
    base = {"name": "x", "generators": [{"label": "a", "source": "zoo:shapes-stylegan"}]}
    cfg = parse_config(base)
    assert cfg.out == Path("reports/x") and cfg.seed == 0 and cfg.figures.enabled
    with pytest.raises(GanevalValueError, match="unique"):
        parse_config(base | {"generators": [{"label": "a", "source": "s1"}, {"label": "a", "source": "s2"}]})
    with pytest.raises(GanevalValueError, match="unknown top-level key"):
        parse_config(base | {"metrcis": []})
    with pytest.raises(GanevalValueError, match="at least one generator"):
        parse_config({"name": "x"})
    m = parse_config(base | {"metrics": [{"name": "ppl", "preset": "ppl_wend", "samples": 5}]}).metrics[0]
    assert m.label == "ppl_wend" and m.options == {"preset": "ppl_wend", "num_samples": 5}
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [")
    with pytest.raises(GanevalValueError, match="valid TOML"):
        load_config(bad)


def test_results_lines_are_metric_json_lines(tmp_path, generator_file, counted_ppl):
    cfg = parse_config(_config(tmp_path, generator_file, metrics=[{"name": "ppl", "space": "w", "samples": 100}]))
    out = run_report(cfg)
    lines = [json.loads(x) for x in out.results_path.read_text().splitlines()]
    metric = next(x for x in lines if x["record"] == "metric")
    # stylegan2-ada's keys first, then the report's
    assert list(metric)[:3] == ["results", "metric", "total_time"]
    assert len(metric["per_sample"]) == 100 and np.isfinite(metric["results"][metric["metric"]])
    assert lines[-1]["record"] == "run" and lines[-1]["generators"][0]["sha256"]
