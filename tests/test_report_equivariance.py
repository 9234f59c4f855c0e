"""The report shows a StyleGAN3 generator beside a StyleGAN one: equivariance for the first, a refusal for the
second, with the section's table and per-sample PSNR plot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ganeval.loaders.stylegan3_torch import build_stylegan3
from ganeval.report.config import parse_config
from ganeval.report.renderer import render_report
from ganeval.report.runner import read_records, run_report

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "stylegan3-r"


@pytest.fixture(scope="module")
def generators(tmp_path_factory, one_thread):
    from ganeval.models.native import save_generator
    from ganeval.models.stylegan import StyleGAN

    folder = tmp_path_factory.mktemp("gens")
    cfg = json.loads((FIXTURE / "config.json").read_text())
    G3 = build_stylegan3(cfg["init_kwargs"], load_file(str(FIXTURE / "weights.safetensors")), "stylegan3-r")
    torch.manual_seed(1)
    G1 = StyleGAN(z_dim=16, w_dim=16, img_resolution=32, fmap_base=64, fmap_max=16, mapping_layers=2).eval()
    return save_generator(G3, folder / "sg3r"), save_generator(G1, folder / "sg1")


def test_equivariance_section_beside_a_stylegan(generators, tmp_path):
    sg3, sg1 = generators
    cfg = parse_config(
        {
            "name": "eq",
            "out": str(tmp_path / "rep"),
            "seed": 3,
            "device": "cpu",
            "generators": [{"label": "alias-free", "source": str(sg3)}, {"label": "style-based", "source": str(sg1)}],
            "metrics": [{"name": "equivariance", "label": "EQ-T", "kind": "eqt_int", "samples": 8, "progress": False}],
            "figures": {"enabled": False},
        }
    )
    outcome = run_report(cfg)
    assert outcome.num_failures == 1  # the StyleGAN has no input transform
    render_report(outcome.results_path)
    records = read_records(outcome.results_path)
    metric = [r for r in records if r["record"] == "metric"]
    failure = [r for r in records if r["record"] == "failure"]
    assert [r["report"]["generator"] for r in metric] == ["alias-free"]
    assert metric[0]["results"][metric[0]["metric"]] > 0 and len(metric[0]["per_sample"]) == 8
    assert [r["report"]["generator"] for r in failure] == ["style-based"]
    page = (tmp_path / "rep" / "index.html").read_text(encoding="utf-8")
    assert "Equivariance (StyleGAN3): EQ-T, EQ-T_frac, EQ-R" in page and "input transform" in page
    plots = sorted((tmp_path / "rep" / "plots").glob("equivariance-*.png"))
    assert len(plots) == 1 and plots[0].stat().st_size > 5_000 and f'src="plots/{plots[0].name}"' in page


def test_figures_of_a_stylegan3_include_translated_and_rotated_strips(generators, tmp_path):
    sg3, _ = generators
    cfg = parse_config(
        {
            "name": "eqfig",
            "out": str(tmp_path / "rep"),
            "seed": 3,
            "device": "cpu",
            "generators": [{"label": "alias-free", "source": str(sg3)}],
            "metrics": [],
            "figures": {
                "enabled": True,
                "grid": 4,
                "mixing_rows": 2,
                "mixing_cols": 2,
                "noise_realisations": 2,
                "std_realisations": 4,
                "interpolation_steps": 3,
                "interpolation_pairs": 1,
            },
        }
    )
    outcome = run_report(cfg)
    assert outcome.num_failures == 0
    render_report(outcome.results_path)
    page = (tmp_path / "rep" / "index.html").read_text(encoding="utf-8")
    strips = sorted(p.name for p in (tmp_path / "rep" / "figures").rglob("equivariance-*.png"))
    assert strips == ["equivariance-eqr.png", "equivariance-eqt_frac.png", "equivariance-eqt_int.png"]
    assert all(f"/{name}" in page for name in strips) and "Equivariance: rotation" in page
