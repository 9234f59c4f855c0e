"""NaN/Inf generator output in separability and FID: stop with the count and first indices, or skip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ganeval
from ganeval import _seeding
from ganeval.classifiers.base import wrap_classifier
from ganeval.errors import NonFiniteOutputError
from ganeval.models.stylegan import StyleGAN

SEED, N = 4, 120


class NaNWhenZ0Large(torch.nn.Module):
    """A StyleGAN whose image is NaN exactly when z[0] > 1 (about 16 % of samples)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.G = StyleGAN(z_dim=8, w_dim=8, img_resolution=8, mapping_layers=1, fmap_base=32, fmap_max=8).eval()
        for k in ("z_dim", "c_dim", "w_dim", "num_ws", "img_resolution", "img_channels"):
            setattr(self, k, getattr(self.G, k))
        self._bad: torch.Tensor | None = None

    def mapping(self, z, c=None, **kw):
        self._bad = z[:, 0] > 1.0
        return self.G.mapping(z, c, **kw)

    def synthesis(self, ws, noise_mode="const"):
        img = self.G.synthesis(ws, noise_mode=noise_mode)
        img[self._bad] = float("nan")
        return img

    def forward(self, z, c=None, noise_mode="const", **kw):
        return self.synthesis(self.mapping(z, c, **kw), noise_mode=noise_mode)


def _expected_bad() -> np.ndarray:
    z = _seeding.normal(SEED, "z", np.arange(N), (8,)).numpy()
    return np.flatnonzero(z[:, 0] > 1.0)


@pytest.fixture
def clf():
    torch.manual_seed(1)
    return wrap_classifier(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 2)), ["a", "b"], 8)


def test_separability_stops_naming_count_and_indices(clf):
    bad = _expected_bad()
    assert 5 < len(bad) < N // 2
    with pytest.raises(NonFiniteOutputError, match=rf"first sample indices: \[{bad[0]}, {bad[1]}"):
        ganeval.separability(
            NaNWhenZ0Large(),
            clf,
            num_samples=N,
            num_keep=40,
            seed=SEED,
            batch_size=N,
            device="cpu",
            cache_dir=False,
            progress="quiet",
        )


def test_separability_skip_leaves_out_exactly_the_bad_samples(clf):
    bad = _expected_bad()
    with pytest.warns(UserWarning, match=f"left out {len(bad)} sample"):
        res = ganeval.separability(
            NaNWhenZ0Large(),
            clf,
            num_samples=N,
            num_keep=40,
            seed=SEED,
            batch_size=16,
            device="cpu",
            cache_dir=False,
            on_nan="skip",
            progress="quiet",
        )
    assert res.extra["num_nonfinite_skipped"] == len(bad)
    assert res.extra["first_nonfinite_indices"] == bad[:10].tolist()
    assert np.isfinite(res.value)


def test_fid_stop_and_skip(tmp_path):
    bad = _expected_bad()
    real = tmp_path / "real.npy"
    np.save(real, np.random.default_rng(0).integers(0, 256, size=(50, 8, 8, 3), dtype=np.uint8))
    torch.manual_seed(2)
    feat = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    kw = dict(num_samples=N, extractor=feat, seed=SEED, batch_size=N, device="cpu", cache=False, progress="quiet")
    with pytest.raises(NonFiniteOutputError, match=rf"{len(bad)} non-finite image\(s\).*\[{bad[0]}, {bad[1]}"):
        ganeval.fid(NaNWhenZ0Large(), str(real), **kw)
    res = ganeval.fid(NaNWhenZ0Large(), str(real), on_nan="skip", **kw)
    assert res.extra["generated_input"]["num_skipped"] == len(bad) and res.extra["real_input"]["num_skipped"] == 0
    assert res.config["num_generated"] == N - len(bad) and np.isfinite(res.value)
