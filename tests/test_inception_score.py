"""Inception score: the formula against a plain transcription and analytic cases, and the full path
(sample loop, resize protocol, FID Inception logits without the output bias) on random weights."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from test_fid_inception import _random_weights

from ganeval.cli import run
from ganeval.errors import GanevalValueError, WeightsNotFoundError
from ganeval.features import register_extractor
from ganeval.features.inception import FIDInceptionV3
from ganeval.metrics.fid import inception_score, inception_score_from_logits


def _reference_is(logits: np.ndarray, splits: int) -> tuple[float, float]:
    """NVIDIA's is50k formula, written out: softmax, per split exp(mean KL(p(y|x) || p(y)))."""
    scores = []
    n = len(logits)
    for i in range(splits):
        part = logits[i * n // splits : (i + 1) * n // splits]
        p = np.exp(part) / np.exp(part).sum(axis=1, keepdims=True)
        py = p.mean(axis=0, keepdims=True)
        kl = (p * (np.log(p) - np.log(py))).sum(axis=1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


@pytest.mark.parametrize("n,k,splits", [(103, 17, 10), (40, 1008, 4), (7, 5, 1)])
def test_formula_matches_transcription(n, k, splits):
    logits = np.random.default_rng(n).normal(0, 3, (n, k))
    mean, std = inception_score_from_logits(logits, splits=splits)
    ref_mean, ref_std = _reference_is(logits, splits)
    assert mean == pytest.approx(ref_mean, abs=1e-10) and std == pytest.approx(ref_std, abs=1e-10)
    assert mean > 1.0


def test_identical_rows_score_one():
    logits = np.tile(np.random.default_rng(0).normal(0, 5, (1, 50)), (60, 1))
    mean, std = inception_score_from_logits(logits, splits=10)
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("peak", [30.0, 1e4])  # 1e4 overflows a naive softmax; the log-softmax copes
def test_peaked_rows_spread_over_k_classes_score_k(peak):
    k, splits, per_class = 12, 5, 3
    n = k * per_class * splits
    logits = np.zeros((n, k))
    logits[np.arange(n), np.arange(n) % k] = peak  # every split holds each class equally often
    mean, std = inception_score_from_logits(logits, splits=splits)
    assert mean == pytest.approx(k, rel=1e-9) and std == pytest.approx(0.0, abs=1e-9)


def test_formula_rejects_bad_input():
    with pytest.raises(GanevalValueError, match="splits"):
        inception_score_from_logits(np.zeros((3, 4)), splits=4)
    with pytest.raises(GanevalValueError, match="finite"):
        inception_score_from_logits(np.full((3, 4), np.nan), splits=1)


# ------------------------------------------------------------------------------------------ full path

N_IMAGES = 8


@pytest.fixture(scope="module")
def setup(one_thread, tmp_path_factory):
    """A random-weight FID Inception whose logits vary between images, the images, and the direct logits."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (N_IMAGES, 1, 1, 3))
    images = np.clip(base + rng.integers(-40, 40, (N_IMAGES, 16, 16, 3)), 0, 255).astype(np.uint8)
    path = tmp_path_factory.mktemp("is") / "gen.npy"
    np.save(path, images)
    model = FIDInceptionV3()
    model.load_state_dict(_random_weights(0))
    model.eval().requires_grad_(False)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    with torch.no_grad():
        feats = model(x)  # the module's own TF resize, not the protocol code
        # Random class weights orthogonal to the mean feature, so the class posterior depends on the
        # image (else one class wins everywhere and IS is 1); a large bias that IS must leave out.
        g = torch.Generator().manual_seed(1)
        w = torch.randn(model.fc.weight.shape, generator=g) * 0.1
        mu = feats.mean(0)
        model.fc.weight.copy_(w - (w @ mu)[:, None] * mu[None] / mu.dot(mu))
        model.fc.bias.copy_(torch.randn(model.fc.bias.shape, generator=g) * 50)
    logits = (feats @ model.fc.weight.T).double().numpy()
    return model, path, logits


def test_full_path_equals_formula_on_direct_logits(setup):
    model, path, logits = setup
    ref_mean, ref_std = inception_score_from_logits(logits, splits=2)
    assert ref_mean > 1.5  # the check below is not a trivial IS = 1
    res = inception_score(
        str(path), num_samples=N_IMAGES, splits=2, extractor=model, device="cpu", batch_size=8, progress="quiet"
    )
    assert res.metric == "is" and res.higher_is_better and res.num_samples == N_IMAGES
    assert res.value == pytest.approx(ref_mean, rel=1e-5) and res.std == pytest.approx(ref_std, rel=1e-3, abs=1e-5)
    assert res.per_sample.shape == (2,)
    assert res.config["splits"] == 2 and res.config["resize"] == "tf" and res.config["extractor"] == model.name
    assert res.config["output_bias"] is False and res.provenance["weights"] == {model.name: "unknown"}


def test_batch_size_does_not_change_the_score(setup):
    model, path, _ = setup
    a = inception_score(
        str(path), num_samples=N_IMAGES, splits=2, extractor=model, device="cpu", batch_size=8, progress="quiet"
    )
    b = inception_score(
        str(path), num_samples=N_IMAGES, splits=2, extractor=model, device="cpu", batch_size=3, progress="quiet"
    )
    assert b.value == pytest.approx(a.value, rel=1e-6)
    np.testing.assert_allclose(b.per_sample, a.per_sample, rtol=1e-6)


def test_cli_metrics_is_needs_no_real_set(setup, tmp_path, capsys):
    model, path, logits = setup
    register_extractor("test-is-inception", model, overwrite=True)
    code = run(
        [
            "fid",
            "-g",
            str(path),
            "-r",
            str(tmp_path / "does-not-exist"),
            "-e",
            "test-is-inception",
            "--metrics",
            "is",
            "--is-splits",
            "2",
            "-n",
            str(N_IMAGES),
            "--device",
            "cpu",
            "-q",
            "--out",
            str(tmp_path / "res"),
        ]
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert out[0].startswith("is ") and "real" not in out[0]
    line = json.loads(out[-1])
    assert line["metric"] == "is"
    assert line["results"]["is"] == pytest.approx(inception_score_from_logits(logits, splits=2)[0], rel=1e-5)
    assert line["config"]["splits"] == 2
    assert (tmp_path / "res" / "metric-is.jsonl").is_file()


def test_missing_weights_say_which_file(setup, tmp_home):
    _, path, _ = setup
    with pytest.raises(WeightsNotFoundError, match=r"pt_inception-2015-12-05-6726825d\.pth"):
        inception_score(str(path), num_samples=N_IMAGES, splits=2, device="cpu")


def test_extractor_without_logits_is_refused(setup):
    _, path, _ = setup
    with pytest.raises(GanevalValueError, match="FID Inception"):
        inception_score(str(path), num_samples=N_IMAGES, splits=2, extractor=torch.nn.Flatten(), device="cpu")
