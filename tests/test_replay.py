"""Replayable results: every metric's JSON line loads back into the same result object, bit for bit
(``ganeval.load_results``), its config names inputs that load again, and ``ganeval.replay`` /
``ganeval replay`` rerun it from that config and reproduce it exactly on the same machine; a
tampered line does not reproduce (exit 1) and a config naming an unknown input is refused (exit 2)."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

import ganeval
from ganeval.cli import run
from ganeval.errors import GanevalValueError
from ganeval.metrics.fid import evaluate
from ganeval.results import MetricResult

ZOO_G = "zoo:shapes-stylegan"


class TinyLogits(torch.nn.Module):
    """A stand-in for the FID Inception in the Inception score: pooled colours -> 10 class logits."""

    name = "tiny-is-logits"
    input_resolution = 8
    weights_sha256 = None

    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(12, 10)
        with torch.no_grad():
            self.fc.weight.copy_(torch.linspace(-3, 3, 120).reshape(10, 12).sin() * 4)

    def _features(self, images: torch.Tensor) -> torch.Tensor:
        return torch.cat([images.mean((2, 3)), images.amax((2, 3)), images.amin((2, 3)), images.std((2, 3))], 1)

    def logits(self, images: torch.Tensor, no_output_bias: bool = True) -> torch.Tensor:
        return self._features(images) @ self.fc.weight.T

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self._features(images)


def _stylegan3_file(folder):
    """The vendored official StyleGAN3-T fixture saved in ganeval's native format: a generator that loads by path."""
    from ganeval.loaders.stylegan3_torch import build_stylegan3

    src = Path(__file__).resolve().parent / "fixtures" / "stylegan3-t"
    cfg = json.loads((src / "config.json").read_text())
    G = build_stylegan3(cfg["init_kwargs"], load_file(str(src / "weights.safetensors")), "stylegan3-t")
    return ganeval.save_generator(G, folder / "sg3t")


@pytest.fixture(scope="module")
def computed(tmp_path_factory, one_thread):
    """One small result of every metric, on the zoo generator, classifier and data (equivariance: a StyleGAN3 file)."""
    G = ganeval.load_generator(ZOO_G)
    quiet = {"device": "cpu", "progress": False}
    out: dict[str, MetricResult] = {}
    out["ppl"] = ganeval.ppl(G, space="z", num_samples=100, distance="zoo:shapes-perceptual", **quiet)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an attribute without a usable fit (NaN row); Fréchet on few samples
        out["separability"] = ganeval.separability(
            G, "zoo:shapes-classifier", spaces=("w",), num_samples=64, num_keep=32, cache_dir=False, **quiet
        )
        fid, kid, pr = evaluate(
            G,
            "zoo:shapes",
            metrics=("fid", "kid", "pr"),
            num_samples=24,
            extractor="zoo:shapes-classifier",
            kid_subsets=3,
            kid_subset_size=16,
            bootstrap=4,
            cache=False,
            **quiet,
        )
    out.update(fid=fid, kid=kid, precision_recall=pr)
    out["inception_score"] = ganeval.inception_score(G, num_samples=20, splits=2, extractor=TinyLogits(), **quiet)
    sg3 = ganeval.load_generator(_stylegan3_file(tmp_path_factory.mktemp("sg3")))
    out["equivariance"] = ganeval.equivariance(sg3, kind="eqt_frac", num_samples=3, batch_size=2, **quiet)
    return out


METRICS = ["ppl", "separability", "fid", "kid", "precision_recall", "inception_score", "equivariance"]
# the per-sample data each result carries (FID: its bootstrap values; KID: per subset; IS: per split)
STORED = {
    "ppl": ["per_sample", "kept_mask", "t"],
    "separability": ["table", "normals"],
    "fid": ["per_sample"],
    "kid": ["per_sample"],
    "precision_recall": [],
    "inception_score": ["per_sample"],
    "equivariance": ["per_sample", "sse", "count", "transform"],
}


def _same(a, b) -> bool:
    """Equal values, NaN equal to NaN, floats bit for bit, containers element by element and of the same kind."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _plain(x):
    """``x`` as JSON holds it: tuples as lists, NumPy scalars as Python numbers (NaN kept)."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x.item() if isinstance(x, np.generic) else x


def _same_data(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, pd.DataFrame):
        return isinstance(b, pd.DataFrame) and a.equals(b) and list(a.dtypes) == list(b.dtypes)
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same_data(a[k], b[k]) for k in a)
    return a is None and b is None


def _roundtrip(result: MetricResult, path) -> MetricResult:
    path.write_text(result.to_json_line(include_per_sample=True) + "\n")
    (back,) = ganeval.load_results(path)
    return back


@pytest.mark.parametrize("name", METRICS)
def test_every_metric_round_trips_exactly_through_jsonl(computed, name, tmp_path):
    r = computed[name]
    back = _roundtrip(r, tmp_path / "results.jsonl")
    assert type(back) is type(r) and back.metric == r.metric
    for f in ("value", "std", "ci_low", "ci_high", "num_samples", "higher_is_better"):
        assert _same(getattr(back, f), getattr(r, f)), f
    # config, provenance and extra as JSON holds them (tuples as lists), NaN and infinities restored
    for f in ("config", "provenance", "extra"):
        assert _same(getattr(back, f), _plain(getattr(r, f))), f
    for f in type(r)._data_fields():
        assert _same_data(getattr(r, f), getattr(back, f)), f
    assert [f for f in type(r)._data_fields() if getattr(r, f) is not None] == STORED[name]


def test_nan_and_infinity_survive_and_arrays_keep_their_dtype(tmp_path):
    r = MetricResult(
        metric="m",
        value=math.nan,
        std=math.inf,
        ci_low=-math.inf,
        ci_high=-0.0,
        num_samples=3,
        per_sample=np.array([1.0, math.nan, math.inf], np.float32),
        config={"a": [1.5, math.nan], "b": {"c": -math.inf}},
        extra={"x": 0.1 + 0.2},
    )
    back = _roundtrip(r, tmp_path / "r.jsonl")
    assert math.isnan(back.value) and back.std == math.inf and back.ci_low == -math.inf
    assert math.copysign(1, back.ci_high) == -1 and back.extra["x"] == 0.1 + 0.2
    assert math.isnan(back.config["a"][1]) and back.config["b"]["c"] == -math.inf
    assert _same_data(r.per_sample, back.per_sample)
    assert json.loads(r.to_json_line())["std"] is None  # still valid JSON: null where JSON has no number


def test_config_names_load_again_and_descriptions_stay_visible(computed):
    c = computed["ppl"].config
    assert c["generator"] == ZOO_G and c["distance"] == "zoo:shapes-perceptual"
    assert "NOT LPIPS-VGG16" in c["distance_description"]
    assert "NOT LPIPS-VGG16" in computed["ppl"].summary()
    assert ganeval.load_distance(c["distance"]).name == c["distance"]
    s = computed["separability"].config
    assert (s["generator"], s["classifier"]) == (ZOO_G, "zoo:shapes-classifier")
    for name in ("fid", "kid", "precision_recall"):
        f = computed[name].config
        assert (f["generator"], f["real_source"], f["extractor"]) == (ZOO_G, "zoo:shapes", "zoo:shapes-classifier")
    e = computed["equivariance"].config
    assert (
        ganeval.load_generator(e["generator"]).provenance["sha256"]
        == computed["equivariance"].provenance["weights"]["generator"]
    )


@pytest.mark.parametrize("name", METRICS)
def test_replay_reproduces_every_metric_exactly(computed, name, tmp_path):
    back = _roundtrip(computed[name], tmp_path / "results.jsonl")
    extra = {"extractor": TinyLogits()} if name == "inception_score" else {}  # built in memory: no name loads it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = ganeval.replay(back, device="cpu", progress=False, **extra)
    assert outcome.reproduced, outcome.summary()
    assert outcome.replayed.value == back.value and outcome.rtol == 0 and not outcome.notes
    if back.per_sample is not None:
        assert np.array_equal(outcome.replayed.per_sample, back.per_sample, equal_nan=True)


def test_replay_names_an_input_built_in_memory(computed):
    with pytest.raises(GanevalValueError, match=r"config `extractor` is 'tiny-is-logits', which does not load"):
        ganeval.replay(computed["inception_score"], device="cpu")


def _write(path, *results: MetricResult, edit=None) -> None:
    lines = []
    for r in results:
        rec = json.loads(r.to_json_line(include_per_sample=True))
        if edit is not None:
            edit(rec)
        lines.append(json.dumps(rec))
    path.write_text("\n".join(lines) + "\n")


def test_cli_replay_reproduces_and_writes_the_rerun(computed, tmp_path, capsys):
    path, out = tmp_path / "results.jsonl", tmp_path / "again.jsonl"
    _write(path, computed["ppl"], computed["precision_recall"])
    assert run(["replay", str(path), "--metric", "ppl", "--device", "cpu", "-q", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "[0] ppl: reproduces" in captured.out and "1 of 1 reproduce exactly" in captured.err
    (again,) = ganeval.load_results(out)
    assert again.value == computed["ppl"].value and again.config == computed["ppl"].config
    assert run(["replay", str(path), "--index", "0", "--out", str(out)]) == 2  # no overwrite without --force
    assert "exists" in capsys.readouterr().err


def test_cli_tampered_value_does_not_reproduce(computed, tmp_path, capsys):
    path = tmp_path / "results.jsonl"
    r = computed["ppl"]

    def tamper(rec):
        rec["results"]["ppl"] *= 1.001
        rec["provenance"]["weights"]["generator"] = "0" * 64

    _write(path, r, edit=tamper)
    assert run(["replay", str(path), "--device", "cpu", "-q"]) == 1
    out = capsys.readouterr().out
    assert "[0] ppl: does NOT reproduce (exact): value:" in out and "relative 1.0e-03" in out
    assert "note: the generator weights differ from the recorded ones" in out


def test_cli_bad_input_exits_2_with_one_line(computed, tmp_path, capsys):
    path = tmp_path / "results.jsonl"
    _write(path, computed["ppl"], edit=lambda rec: rec["config"].update(distance="no-such-distance"))
    assert run(["replay", str(path), "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "config `distance` is 'no-such-distance', which does not load" in err
    assert run(["replay", str(tmp_path / "missing.jsonl")]) == 2
    assert "does not exist" in capsys.readouterr().err
    path.write_text('{"metric": "ppl"\n')
    assert run(["replay", str(path)]) == 2
    assert "line 1 is not valid JSON" in capsys.readouterr().err
    _write(path, computed["ppl"], edit=lambda rec: rec.update(result_type="NoSuchResult"))
    assert run(["replay", str(path)]) == 2
    assert "`result_type` 'NoSuchResult'" in capsys.readouterr().err
    _write(path, computed["ppl"])
    assert run(["replay", str(path), "--index", "3"]) == 2
    assert "holds 1 results" in capsys.readouterr().err


def test_a_report_results_file_loads_its_metric_records():
    """The shipped example report (its failure/figure/run records skipped; older lines: the 7-digit per-sample copy)."""
    path = Path(__file__).resolve().parents[1] / "reports" / "example" / "results.jsonl"
    if not path.is_file():
        pytest.skip("reports/example/results.jsonl is not generated")
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    metric_records = [r for r in records if r.get("record") == "metric"]
    results = ganeval.load_results(path)
    assert len(results) == len(metric_records) > 0
    for rec, r in zip(metric_records, results):
        assert r.metric == rec["metric"] and r.value == rec["results"][rec["metric"]]
        if rec.get("per_sample") and r.per_sample is not None:
            assert np.allclose(
                r.per_sample, [math.nan if v is None else v for v in rec["per_sample"]], rtol=1e-6, equal_nan=True
            )
    assert {type(r).__name__ for r in results} >= {"PPLResult", "SeparabilityResult", "FIDResult"}


def test_tolerance_is_relative_and_checked_before_any_work(computed):
    from dataclasses import replace

    from ganeval._replay import compare

    r = computed["fid"]
    nudged = replace(r, value=r.value * (1 + 1e-4))
    assert compare(r, nudged, rtol=1e-3).reproduced and compare(r, r).reproduced
    outcome = compare(r, nudged)
    assert not outcome.reproduced and outcome.mismatches[0].startswith("value: ")
    assert compare(r, replace(r, per_sample=r.per_sample[::-1].copy())).mismatches == (
        "per_sample: 4 of 4 differ (largest relative difference "
        + f"{np.max(np.abs(r.per_sample[::-1] - r.per_sample) / np.abs(r.per_sample)):.1e})",
    )
    with pytest.raises(GanevalValueError, match="`rtol` must be a number in"):
        ganeval.replay(r, rtol=2.0)
