"""`ganeval ppl` end to end on a tiny natively saved generator, and the embedded default."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
import torch
from helpers.ppl_generators import small_stylegan

from ganeval.cli import run


@pytest.fixture(autouse=True)
def one_thread():
    # tiny tensors: a second intra-op thread only adds synchronisation (several-fold slower on a loaded machine)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def alexnet_backbone(tmp_path, monkeypatch):
    """A seeded random torchvision AlexNet state_dict standing in for the registry's ImageNet file."""
    import torchvision

    import ganeval.weights

    torch.manual_seed(0)
    path = tmp_path / "alexnet-random.pth"
    torch.save(torchvision.models.alexnet().state_dict(), path)
    real = ganeval.weights.resolve
    monkeypatch.setattr(
        ganeval.weights, "resolve", lambda name, **kw: path if name == "torchvision-alexnet" else real(name, **kw)
    )
    return path


def test_cli_writes_summary_table_jsonl_csv_and_plots(tmp_path, alexnet_backbone, capsys):
    from ganeval.models.native import save_generator

    gen_path = save_generator(small_stylegan(0, resolution=32), tmp_path / "tiny")
    out = tmp_path / "out"
    args = [
        "ppl",
        "--generator",
        str(gen_path),
        "--distance",
        "lpips-alex",
        "--space",
        "both",
        "--samples",
        "100",
        "--batch-size",
        "50",
        "--device",
        "cpu",
        "--out",
        str(out),
        "--quiet",
    ]
    assert run(args) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].startswith("ppl = ") and "n=100" in lines[0] and "distance=lpips-alex" in lines[0]
    assert "downsample=tf" in lines[0] and str(gen_path.stem) in lines[0]
    assert any(line.strip().startswith("95% CI (bootstrap)") for line in lines)
    records = [json.loads(s) for s in (out / "results.jsonl").read_text().splitlines()]
    assert [r["config"]["space"] for r in records] == ["z", "w"]
    (csv_path,) = out.glob("ppl-wend-*-distances.csv")
    csv = pd.read_csv(csv_path)
    kept = csv["path_length"][csv["kept"]]
    assert len(csv) == 100 and np.isclose(kept.mean(), records[1]["results"]["ppl"], rtol=1e-12)
    (dist_png,) = out.glob("ppl-*-distribution.png")
    (interp_png,) = out.glob("ppl-*-interpolation.png")
    assert dist_png.stat().st_size > 1000 and interp_png.stat().st_size > 1000
    # appended, and --json prints exactly the JSON line
    assert run([*args[:-1], "--space", "w", "--json", "--quiet"]) == 0
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

    if (
        not (pretrained_dir() / "shapes-stylegan.json").exists()
        or not (pretrained_dir() / "shapes-perceptual.json").exists()
    ):
        pytest.skip("the zoo weights (pretrained/shapes-*.json) are not trained yet")
    assert run(["ppl", "--samples", "100", "--device", "cpu", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "no --generator given: running on the embedded default zoo:shapes-stylegan" in captured.err
    assert "NOT LPIPS-VGG16" in captured.err
    assert "distance=zoo:shapes-perceptual" in captured.out.splitlines()[0]


def test_cli_unwritable_out_fails_before_any_work(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    # the generator does not exist either: the output folder is checked first, before loading anything
    code = run(["ppl", "--generator", str(tmp_path / "missing.pt"), "--device", "cpu", "--out", str(blocker / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith(f"Error: Cannot write to the output folder {blocker / 'out'}: ") and "--out" in err[0]


def test_cli_rerun_resumes_from_the_run_folder(tmp_path, alexnet_backbone, capsys):
    from ganeval.models.native import save_generator

    gen_path = save_generator(small_stylegan(0, resolution=32), tmp_path / "tiny")
    out = tmp_path / "out"
    args = [
        "ppl",
        "--generator",
        str(gen_path),
        "--distance",
        "lpips-alex",
        "--samples",
        "100",
        "--batch-size",
        "50",
        "--device",
        "cpu",
        "--out",
        str(out),
        "--json",
        "--quiet",
    ]
    assert run(args) == 0
    first = json.loads(capsys.readouterr().out)
    (run_dir,) = out.glob(".run-w-*")
    spans = sorted(tuple(int(x) for x in p.stem.split("-")) for p in (run_dir / "chunks").glob("[0-9]*.npz"))
    assert spans[0][0] == 0 and spans[-1][1] == 100  # every sample is on disk, in contiguous chunks
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    # the same command finds every sample done: nothing is recomputed, the result is identical
    assert run(args) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["provenance"]["resumed"] == 100 and first["provenance"]["resumed"] == 0
    assert again["results"] == first["results"] and again["ci95"] == first["ci95"]
    # another seed is another run: a new folder, never mixed into the first
    assert run([*args, "--seed", "1"]) == 0
    assert len(list(out.glob(".run-w-*"))) == 2
    assert json.loads(capsys.readouterr().out)["provenance"]["resumed"] == 0
    assert len((out / "results.jsonl").read_text().splitlines()) == 3


def test_cli_on_nan_stop_and_skip(tmp_path, alexnet_backbone, monkeypatch, capsys):
    from helpers.ppl_generators import NaNGenerator

    import ganeval.cli._generator

    # the CLI's loader hands out a generator whose images are NaN where z0[0] > 1 (a deterministic set of samples)
    monkeypatch.setattr(ganeval.cli._generator, "load", lambda source, device: NaNGenerator(resolution=32))
    from ganeval import _seeding

    idx = np.arange(200)
    bad = idx[_seeding.normal(0, "ppl.z0", idx, [8])[:, 0].numpy() > 1.0]
    args = [
        "ppl",
        "--generator",
        "nan-generator",
        "--distance",
        "lpips-alex",
        "--samples",
        "200",
        "--batch-size",
        "200",
        "--device",
        "cpu",
        "--quiet",
    ]
    assert run(args) == 2
    err = capsys.readouterr().err
    assert f"Error: The generator returned NaN or Inf for {len(bad)} of the 200 pairs" in err
    assert str(bad[:5].tolist()) in err
    assert run([*args, "--on-nan", "skip", "--json"]) == 0
    captured = capsys.readouterr()
    assert (
        f"Note: skipped {len(bad)} of 200 pairs with NaN/Inf images (first sample indices: {bad[:5].tolist()})"
        in captured.err
    )
    record = json.loads(captured.out)
    assert record["num_samples"] == 200 - len(bad) and record["extra"]["num_nonfinite_skipped"] == len(bad)


def test_append_is_all_or_nothing(tmp_path, monkeypatch):
    import os

    from ganeval._io import append_text
    from ganeval.errors import OutputError

    path = tmp_path / "results.jsonl"
    append_text(path, '{"a": 1}\n')
    real_write = os.write
    # a disk that fills up mid-line: the write call stores only part of the bytes
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[:5]))
    with pytest.raises(OutputError, match=r"only 5 of 9 bytes could be written"):
        append_text(path, '{"b": 2}\n')
    monkeypatch.setattr(os, "write", real_write)
    assert path.read_text() == '{"a": 1}\n'


def test_cli_another_configuration_never_overwrites_a_runs_outputs(tmp_path, alexnet_backbone, capsys):
    from ganeval.models.native import save_generator

    gen_path = save_generator(small_stylegan(0, resolution=32), tmp_path / "tiny")
    out = tmp_path / "out"
    base = [
        "ppl",
        "--generator",
        str(gen_path),
        "--distance",
        "lpips-alex",
        "--samples",
        "100",
        "--device",
        "cpu",
        "--out",
        str(out),
        "--quiet",
    ]
    assert run([*base, "--seed", "1", "--method", "jvp", "--chunk-size", "8"]) == 0
    first = {p: p.read_bytes() for p in out.glob("ppl-*")}
    assert len(first) == 3
    assert run([*base, "--seed", "2"]) == 0
    files = sorted(out.glob("ppl-*"))
    assert len(files) == 6 and all(p.read_bytes() == data for p, data in first.items())
    records = [json.loads(s) for s in (out / "results.jsonl").read_text().splitlines()]
    assert [(r["config"]["seed"], r["config"]["method"], r["config"]["chunk_size"]) for r in records] == [
        (1, "jvp", 8),
        (2, "fd", 16),
    ]
