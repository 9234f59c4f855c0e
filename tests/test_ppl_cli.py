"""`ganeval ppl` end to end on a tiny natively saved generator, and the embedded default."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from helpers.ppl_generators import small_stylegan

from ganeval.cli import run


@pytest.fixture
def alexnet_backbone(tmp_path, monkeypatch):
    """A seeded random torchvision AlexNet state_dict standing in for the registry's ImageNet file."""
    import torchvision

    import ganeval.weights

    torch.manual_seed(0)
    path = tmp_path / "alexnet-random.pth"
    torch.save(torchvision.models.alexnet().state_dict(), path)
    real = ganeval.weights.resolve
    monkeypatch.setattr(ganeval.weights, "resolve",
                        lambda name, **kw: path if name == "torchvision-alexnet" else real(name, **kw))
    return path


def test_cli_writes_summary_table_jsonl_csv_and_plots(tmp_path, alexnet_backbone, capsys):
    from ganeval.models.native import save_generator

    gen_path = save_generator(small_stylegan(0, resolution=32), tmp_path / "tiny")
    out = tmp_path / "out"
    args = ["ppl", "--generator", str(gen_path), "--distance", "lpips-alex", "--space", "both", "--samples", "100",
            "--batch-size", "50", "--device", "cpu", "--out", str(out), "--quiet"]
    assert run(args) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].startswith("ppl = ") and "n=100" in lines[0] and "distance=lpips-alex" in lines[0]
    assert "protocol=tf" in lines[0] and str(gen_path.stem) in lines[0]
    assert any(line.strip().startswith("95% CI (bootstrap)") for line in lines)
    records = [json.loads(s) for s in (out / "results.jsonl").read_text().splitlines()]
    assert [r["config"]["space"] for r in records] == ["z", "w"]
    csv = pd.read_csv(out / "ppl-wend-distances.csv")
    kept = csv["path_length"][csv["kept"]]
    assert len(csv) == 100 and np.isclose(kept.mean(), records[1]["results"]["ppl"], rtol=1e-12)
    assert (out / "ppl-distribution.png").stat().st_size > 1000 and (out / "ppl-interpolation.png").stat().st_size > 1000
    # appended, and --json prints exactly the JSON line
    assert run(args[:-1] + ["--space", "w", "--json", "--quiet"]) == 0
    printed = json.loads(capsys.readouterr().out.strip())
    assert printed["results"]["ppl"] == records[1]["results"]["ppl"]
    assert len((out / "results.jsonl").read_text().splitlines()) == 3


def test_cli_bad_input_is_one_line_error(tmp_path, capsys):
    from ganeval.models.native import save_generator

    gen_path = save_generator(small_stylegan(0, resolution=8), tmp_path / "tiny")
    assert run(["ppl", "--generator", str(gen_path), "--epsilon", "0", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "Error: Argument `epsilon` must be a positive float, but got 0.0." in err


def test_cli_embedded_default_says_so(capsys):
    from ganeval.zoo._load import pretrained_dir

    if not (pretrained_dir() / "shapes-stylegan.json").exists() or not (pretrained_dir() / "shapes-perceptual.json").exists():
        pytest.skip("the zoo weights (pretrained/shapes-*.json) are not trained yet")
    assert run(["ppl", "--samples", "100", "--device", "cpu", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "no --generator given: running on the embedded default zoo:shapes-stylegan" in captured.err
    assert "NOT LPIPS-VGG16" in captured.err
    assert "distance=zoo:shapes-perceptual" in captured.out.splitlines()[0]
