"""Fréchet distance, KID and precision/recall against analytic answers and direct transcriptions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg

from ganeval.errors import GanevalValueError
from ganeval.metrics.fid import kid_from_features, precision_recall_from_features
from ganeval.metrics.frechet import SmallSampleWarning, frechet_details, frechet_distance, warn_small_sample


def _spd(rng: np.random.Generator, d: int, n: int) -> np.ndarray:
    x = rng.standard_normal((n, d)) * rng.uniform(0.2, 2.0, d)
    return np.cov(x, rowvar=False)


def _scipy_fid(m1, s1, m2, s2) -> float:
    root = scipy.linalg.sqrtm(s1 @ s2)
    return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(root).real)


def _fid_by_symmetric_root(m1, s1, m2, s2) -> float:
    """``|m1 - m2|^2 + Tr S1 + Tr S2 - 2 Tr sqrt(S1^1/2 S2 S1^1/2)``, S1^1/2 from an eigendecomposition."""
    w, v = np.linalg.eigh(s1)
    root = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    lam = np.linalg.eigvalsh(root @ s2 @ root)
    return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(lam, 0.0, None)).sum())


def test_same_set_is_zero():
    rng = np.random.default_rng(0)
    s = _spd(rng, 64, 500)
    mu = rng.standard_normal(64)
    assert frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-9 * np.trace(s))


def test_equal_covariances_give_squared_mean_distance():
    rng = np.random.default_rng(1)
    s = _spd(rng, 32, 400)
    m1, m2 = rng.standard_normal(32), rng.standard_normal(32)
    assert frechet_distance(m1, s, m2, s) == pytest.approx(float(((m1 - m2) ** 2).sum()), rel=1e-9, abs=1e-9)


def test_hand_built_2d_case():
    # Diagonal covariances commute: Tr(sqrt(S1 S2)) = sum sqrt(a_i b_i).
    # S1 = diag(4, 1), S2 = diag(1, 9): traces 5 + 10, sqrt term 2*(2 + 3) = 10; means differ by (3, 4) -> 25.
    value = frechet_distance(np.array([0.0, 0.0]), np.diag([4.0, 1.0]), np.array([3.0, 4.0]), np.diag([1.0, 9.0]))
    assert value == pytest.approx(25.0 + 15.0 - 10.0, rel=1e-12)
    # A rotated pair: S1 = R diag(4, 1) R^T, S2 = R diag(9, 16) R^T: sqrt term 2*(6 + 4) = 20, traces 5 + 25.
    c, s = np.cos(0.3), np.sin(0.3)
    rot = np.array([[c, -s], [s, c]])
    s1, s2 = rot @ np.diag([4.0, 1.0]) @ rot.T, rot @ np.diag([9.0, 16.0]) @ rot.T
    assert frechet_distance(np.zeros(2), s1, np.zeros(2), s2) == pytest.approx(10.0, rel=1e-12)


@pytest.mark.parametrize("d", [16, 128, 256])
def test_matches_scipy_sqrtm_on_random_spd(d):
    rng = np.random.default_rng(d)
    s1, s2 = _spd(rng, d, 4 * d), _spd(rng, d, 4 * d)
    m1, m2 = rng.standard_normal(d), rng.standard_normal(d)
    ours, ref = frechet_distance(m1, s1, m2, s2), _scipy_fid(m1, s1, m2, s2)
    assert abs(ours - ref) / ref < 1e-6


@pytest.mark.parametrize("first_deficient", [True, False])
def test_rank_deficient_is_finite_and_reports_rank(first_deficient):
    rng = np.random.default_rng(3)
    d = 96
    small = np.cov(rng.standard_normal((40, d)), rowvar=False)  # rank 39
    full = _spd(rng, d, 400)
    args = (np.zeros(d), small, np.ones(d), full) if first_deficient else (np.zeros(d), full, np.ones(d), small)
    det = frechet_details(*args)
    assert det.value == pytest.approx(_fid_by_symmetric_root(*args), rel=1e-7)  # sqrt of round-off eigenvalues
    ranks = (det.rank1, det.rank2) if first_deficient else (det.rank2, det.rank1)
    assert ranks == (39, d)
    # the product has the same non-zero spectrum either way round, so the value is symmetric
    swapped = frechet_details(args[2], args[3], args[0], args[1]).value
    assert swapped == pytest.approx(det.value, rel=1e-8)


def test_small_sample_warning_and_bad_shapes():
    with pytest.warns(SmallSampleWarning, match="rank-deficient"):
        warn_small_sample(100, 2048, "FID")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_small_sample(5000, 2048, "FID")
    with pytest.raises(GanevalValueError, match="sigma2"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(4))
    with pytest.raises(GanevalValueError, match="finite"):
        frechet_distance(np.zeros(2), np.eye(2) * np.nan, np.zeros(2), np.eye(2))


def _kid_reference(x: np.ndarray, y: np.ndarray, idx_x: list, idx_y: list) -> float:
    """The reference formula written out pair by pair (slow, obvious)."""
    d = x.shape[1]

    def k(a, b):
        return (a @ b / d + 1) ** 3

    total = 0.0
    for ix, iy in zip(idx_x, idx_y):
        xs, ys = x[ix], y[iy]
        m = len(xs)
        kxx = sum(k(xs[i], xs[j]) for i in range(m) for j in range(m) if i != j)
        kyy = sum(k(ys[i], ys[j]) for i in range(m) for j in range(m) if i != j)
        kxy = sum(k(xs[i], ys[j]) for i in range(m) for j in range(m))
        total += (kxx + kyy) / (m - 1) - 2 * kxy / m
    return total / len(idx_x) / m


def test_kid_matches_pairwise_transcription():
    from ganeval import _seeding

    rng = np.random.default_rng(5)
    gen, real = rng.standard_normal((30, 6)), rng.standard_normal((25, 6)) + 0.5
    vals = kid_from_features(gen, real, num_subsets=4, subset_size=12, seed=7)
    draw = np.random.default_rng([7, _seeding.stream_id("kid")])
    ix, iy = [], []
    for _ in range(4):
        ix.append(draw.choice(30, 12, replace=False))
        iy.append(draw.choice(25, 12, replace=False))
    assert vals.mean() == pytest.approx(_kid_reference(gen, real, ix, iy), rel=1e-10)
    # unbiased: independent draws of one distribution average to ~0, a shifted one does not
    a, b = rng.standard_normal((400, 6)), rng.standard_normal((400, 6))
    same = kid_from_features(a, b, num_subsets=20, subset_size=100, seed=0)
    shifted = kid_from_features(a, b + 0.5, num_subsets=20, subset_size=100, seed=0)
    assert abs(same.mean()) < 3 * same.std() / np.sqrt(20) + 1e-3
    assert shifted.mean() > 10 * abs(same.mean())


def test_precision_recall_matches_transcription():
    rng = np.random.default_rng(6)
    gen, real = rng.standard_normal((60, 5)), rng.standard_normal((50, 5)) * 1.5 + 0.3
    k = 3

    def coverage(manifold, probes):
        dm = np.sqrt(((manifold[:, None] - manifold[None]) ** 2).sum(-1))
        radii = np.sort(dm, axis=1)[:, k]  # k-th neighbour, self excluded
        dp = np.sqrt(((probes[:, None] - manifold[None]) ** 2).sum(-1))
        return float((dp <= radii[None]).any(axis=1).mean())

    p, r = precision_recall_from_features(gen, real, k=k, batch_size=16)
    assert p == pytest.approx(coverage(real, gen), abs=1e-12)
    assert r == pytest.approx(coverage(gen, real), abs=1e-12)
