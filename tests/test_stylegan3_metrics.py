"""PPL, separability and FID accept StyleGAN3 generators (W is the same protocol as StyleGAN2's)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import ganeval
from ganeval.classifiers.base import wrap_classifier
from ganeval.loaders.stylegan3_torch import build_stylegan3

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "stylegan3-t"
FAST = {"device": "cpu", "progress": False}


@pytest.fixture(scope="module")
def G(one_thread):
    cfg = json.loads((FIXTURE / "config.json").read_text())
    return build_stylegan3(cfg["init_kwargs"], load_file(str(FIXTURE / "weights.safetensors")), "stylegan3-t")


def _sq_l2(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).square().mean(dim=(1, 2, 3))


def test_ppl_in_w_and_z_and_the_exact_derivative_agree(G):
    fd = ganeval.ppl(G, space="w", sampling="full", num_samples=100, distance=_sq_l2, **FAST)
    exact = ganeval.ppl(G, space="w", sampling="full", num_samples=100, distance=_sq_l2, method="jvp", **FAST)
    assert G.synthesis.noise_resolutions == [] and np.isfinite(fd.per_sample).all() and fd.value > 0
    assert fd.ci_low <= exact.value <= fd.ci_high
    assert np.median(np.abs(fd.per_sample / exact.per_sample - 1)) < 1e-2
    z = ganeval.ppl(G, space="z", num_samples=100, distance=_sq_l2, **FAST)
    assert np.isfinite(z.value) and z.value > 0


def test_separability_and_fid(G, tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(G.img_channels, 4, 3, stride=2), torch.nn.Flatten(), torch.nn.LazyLinear(2)
    )
    net(torch.zeros(1, G.img_channels, G.img_resolution, G.img_resolution))
    clf = wrap_classifier(net, ["a", "b"], G.img_resolution)
    s = ganeval.separability(G, clf, num_samples=300, num_keep=150, seed=1, cache_dir=False, **FAST)
    table = s.table
    assert set(s.scores()) == {"z", "w"} and len(table) == 4
    for space, score in s.scores().items():  # the score is 2 ** (summed conditional entropies in bits)
        assert score == pytest.approx(2.0 ** table[table.space == space].entropy_bits.sum(), rel=1e-12)
    # a conditional entropy never exceeds the label's own entropy
    p = table.class_balance.to_numpy()
    h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    assert (table.entropy_bits.to_numpy() <= h + 1e-9).all()
    feat = torch.nn.Sequential(
        torch.nn.Conv2d(G.img_channels, 8, 3, stride=2), torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten()
    )
    real = tmp_path / "real.npy"
    rng = np.random.default_rng(0)
    np.save(real, rng.integers(0, 256, (200, G.img_resolution, G.img_resolution, G.img_channels), dtype=np.uint8))
    f = ganeval.fid(G, str(real), num_samples=200, extractor=feat, cache=False, **FAST)
    assert np.isfinite(f.value) and f.value > 0
