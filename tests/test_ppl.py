"""PPL: analytic ground truth, slerp geometry, the percentile rule, the bootstrap, determinism, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers.ppl_generators import (
    ConditionalLinearGenerator,
    LinearGenerator,
    NaNGenerator,
    NoMappingGenerator,
    ScaledGenerator,
    small_stylegan,
    squared_l2,
)
from scipy import integrate, optimize, stats

from ganeval.distances import lpips_with_random_backbone
from ganeval.errors import GanevalValueError, NonFiniteOutputError, UnsupportedGeneratorError
from ganeval.metrics.ppl import (
    PPL_PRESETS,
    bootstrap_ci,
    box_downsample,
    crop_face,
    downsample_factor,
    filtered_mean,
    percentile_filter,
    ppl,
    slerp,
)

FAST = {"device": "cpu", "progress": False}


@pytest.fixture(autouse=True)
def one_thread(request):
    # the tests' tensors are tiny: a second intra-op thread only adds synchronisation, and on a
    # shared, loaded machine it slows every op several-fold. Tests marked `default_threads` keep
    # torch's setting: which CPU kernels run (and so the last bits) can depend on the thread count.
    before = torch.get_num_threads()
    if request.node.get_closest_marker("default_threads") is None:
        torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --------------------------------------------------------------------------- analytic ground truth


def test_w_space_matches_closed_form_trimmed_chi2():
    # G(w) = s Q w with orthonormal Q, squared L2 distance: d / eps^2 = s^2 |w1 - w0|^2 = 2 s^2 chi2_k.
    # The 1/99 filter turns the mean into the chi2 mean restricted to [q01, q99]:
    # E[X 1{a<=X<=b}] = k (F_{k+2}(b) - F_{k+2}(a)) for X ~ chi2_k.
    k, s = 8, 0.5
    G = LinearGenerator(z_dim=k, scale=s)
    r = ppl(G, space="w", sampling="full", num_samples=20_000, distance=squared_l2, batch_size=2048, **FAST)
    a, b = stats.chi2.ppf([0.01, 0.99], k)
    expected = 2 * s**2 * k * (stats.chi2.cdf(b, k + 2) - stats.chi2.cdf(a, k + 2)) / 0.98
    assert r.ci_low <= expected <= r.ci_high, (expected, r.ci_low, r.value, r.ci_high)
    assert r.ci_high - r.ci_low < 0.03 * expected  # the CI is informative, not a blanket
    assert abs(r.value - 2 * s**2 * k) > 0.01  # and the filter matters: the raw chi2 mean is excluded


def test_z_space_matches_trimmed_angle_law():
    # Identity mapping, no normalisation: NVIDIA's slerp walks the unit sphere, so
    # d / eps^2 = s^2 (2 sin(eps theta / 2) / eps)^2 ~= s^2 theta^2, theta = angle(z0, z1) with
    # density sin(theta)^(k-2) / B on [0, pi]. Trimmed mean of theta^2 between its 1 % and 99 % quantiles.
    k, s = 8, 0.5
    G = LinearGenerator(z_dim=k, scale=s)
    r = ppl(G, space="z", sampling="full", num_samples=20_000, distance=squared_l2, batch_size=2048, **FAST)
    norm = integrate.quad(lambda th: math.sin(th) ** (k - 2), 0, math.pi)[0]

    def cdf(th: float) -> float:
        return integrate.quad(lambda u: math.sin(u) ** (k - 2), 0, th)[0] / norm

    lo, hi = (optimize.brentq(lambda th, q=q: cdf(th) - q, 0, math.pi) for q in (0.01, 0.99))
    trimmed = integrate.quad(lambda th: th**2 * math.sin(th) ** (k - 2), lo, hi)[0] / norm / 0.98
    expected = s**2 * trimmed
    assert r.ci_low <= expected <= r.ci_high, (expected, r.ci_low, r.value, r.ci_high)


def test_conditional_one_label_per_pair():
    # The class offset (0.1 * N(0, 1) per pixel) would add ~|offset_a - offset_b|^2 / eps^2 ~ 1e7 to a pair
    # with two labels; it cancels only if both images share the label (up to fp32 rounding).
    kw = {"space": "w", "num_samples": 200, "distance": squared_l2, **FAST}
    cond = ppl(ConditionalLinearGenerator(c_dim=5), **kw)
    plain = ppl(LinearGenerator(), **kw)
    np.testing.assert_allclose(cond.per_sample, plain.per_sample, rtol=1e-2)


# --------------------------------------------------------------------------- geometry


def test_slerp_unit_sphere_and_exact_eps_step():
    gen = torch.Generator().manual_seed(3)
    a, b = (
        torch.randn(64, 16, generator=gen, dtype=torch.float64),
        torch.randn(64, 16, generator=gen, dtype=torch.float64),
    )
    t = torch.rand(64, generator=gen, dtype=torch.float64)
    eps = 1e-4
    p0, p1 = slerp(a, b, t), slerp(a, b, t + eps)
    np.testing.assert_allclose(p0.norm(dim=1).numpy(), 1.0, atol=1e-12)
    cos_ab = (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))
    theta = torch.acos(cos_ab)
    # chord between p0 and p1 on the unit sphere: 2 sin(angle / 2); angle must be eps * theta
    step = 2 * torch.asin((p1 - p0).norm(dim=1) / 2)
    np.testing.assert_allclose(step.numpy(), (eps * theta).numpy(), rtol=1e-7)
    np.testing.assert_allclose(
        slerp(a, b, torch.zeros(64, dtype=torch.float64)).numpy(), (a / a.norm(dim=1, keepdim=True)).numpy(), atol=1e-12
    )
    np.testing.assert_allclose(
        slerp(a, b, torch.ones(64, dtype=torch.float64)).numpy(), (b / b.norm(dim=1, keepdim=True)).numpy(), atol=1e-10
    )


def test_crop_window_and_downsample_orders():
    x = torch.arange(16 * 16, dtype=torch.float32).reshape(1, 1, 16, 16)
    c = crop_face(x)
    assert c.shape == (1, 1, 8, 8)
    assert c[0, 0, 0, 0].item() == 6 * 16 + 4 and c[0, 0, -1, -1].item() == 13 * 16 + 11  # rows 6..13, cols 4..11
    # 1024 px with crop: TF sees 512 -> factor 2 (256 px); ada-pytorch factor 4 (128 px)
    assert downsample_factor(1024, 512, "tf") == 2 and downsample_factor(1024, 512, "ada-pytorch") == 4
    assert downsample_factor(512, 256, "tf") == 1 and downsample_factor(512, 256, "ada-pytorch") == 2
    assert downsample_factor(1024, 1024, "tf") == downsample_factor(1024, 1024, "ada-pytorch") == 4
    assert downsample_factor(256, 128, "tf") == downsample_factor(256, 128, "ada-pytorch") == 1
    y = box_downsample(torch.tensor([[[[1.0, 3.0], [5.0, 7.0]]]]), 2)
    assert y.item() == 4.0


# --------------------------------------------------------------------------- filter and bootstrap


def test_percentile_rule_on_hand_made_array():
    # n = 200: 1st percentile "lower" sits at rank floor(0.01 * 199) = 1 (value 2),
    # 99th "higher" at rank ceil(0.99 * 199) = 198 (value 199); both bounds are inclusive.
    d = np.random.default_rng(0).permutation(np.arange(1, 201, dtype=np.float64))
    mask = percentile_filter(d)
    assert sorted(d[mask]) == list(range(2, 200))
    assert filtered_mean(d) == pytest.approx(100.5)
    # ties at a bound are all kept
    e = np.array([1.0] * 5 + [2.0] * 190 + [9.0] * 5)
    assert percentile_filter(e).sum() == 200
    # torchmetrics' "lower" for the 99th percentile would give 198 (rank 197), not 199
    assert np.percentile(d, 99, method="lower") == 198 and np.percentile(d, 99, method="higher") == 199


def test_bootstrap_matches_plain_resampling_loop():
    d = np.random.default_rng(1).lognormal(size=300)
    lo, hi = bootstrap_ci(d, seed=7, num_resamples=200)
    # plain version: same index draws into the sorted values, np.percentile filter, mean, quantiles
    from ganeval import _seeding

    ds = np.sort(d)
    rng = np.random.default_rng([7, _seeding.stream_id("ppl.bootstrap"), 300])
    means = [filtered_mean(ds[rng.integers(0, 300, size=(1, 300))[0]]) for _ in range(200)]
    np.testing.assert_allclose([lo, hi], np.quantile(means, [0.025, 0.975]), rtol=1e-12)
    assert lo < filtered_mean(d) < hi


# --------------------------------------------------------------------------- determinism


@pytest.fixture(scope="module")
def tiny():
    return small_stylegan(0, resolution=32), lpips_with_random_backbone("alex", 0)


@pytest.mark.parametrize("space,sampling,crop", [("w", "full", False), ("z", "end", True)])
def test_identical_for_batch_sizes_1_7_64(space, sampling, crop):
    # every draw (z0, z1, t, noise) is per sample index, and the generator is row-independent:
    # bit-identical per-sample values for any batch size
    G = small_stylegan(0, resolution=16 if crop else 8)
    kw = {"space": space, "sampling": sampling, "crop": crop, "num_samples": 100, "distance": squared_l2, **FAST}
    runs = [ppl(G, batch_size=bs, **kw) for bs in (1, 7, 64)]
    for r in runs[1:]:
        np.testing.assert_array_equal(r.per_sample, runs[0].per_sample)
        assert r.value == runs[0].value and (r.ci_low, r.ci_high) == (runs[0].ci_low, runs[0].ci_high)
    assert runs[0].config["noise"] == "per-pair"
    assert not np.allclose(ppl(G, seed=1, **kw).per_sample, runs[0].per_sample)


@pytest.mark.default_threads
def test_batch_sizes_with_lpips_are_identical_and_chunk_sizes_agree_to_the_noise_floor(tiny):
    # the networks always run on the same index-aligned chunks, so the batch size only groups them:
    # bit-identical on any CPU; another chunk size rounds differently (d / eps^2 amplifies image
    # rounding ~1e-7 relative to the eps-sized image change), within the measured noise floor
    G, dist = tiny
    kw = {"space": "w", "num_samples": 100, "distance": dist, **FAST}
    runs = {bs: ppl(G, batch_size=bs, **kw) for bs in (1, 7, 64)}
    for bs in (1, 7):
        np.testing.assert_array_equal(runs[bs].per_sample, runs[64].per_sample)
    assert runs[1].config["chunk_size"] == 16 and runs[1].provenance["batch_size"] == 16
    other = ppl(G, chunk_size=1, **kw)
    np.testing.assert_allclose(other.per_sample, runs[64].per_sample, rtol=1e-2)
    assert other.value == pytest.approx(runs[64].value, rel=1e-3)


def test_values_do_not_depend_on_the_run_length_or_an_unaligned_batch():
    # a partial last chunk is padded with the following indices, so sample i's value is the same in a
    # run of 100 as in a run of 150, and a batch that does not start on a chunk boundary changes nothing
    from ganeval.metrics._ppl_paths import PathSampler

    G = small_stylegan(0, resolution=8)
    kw = {"space": "w", "distance": squared_l2, **FAST}
    short, long = ppl(G, num_samples=100, **kw), ppl(G, num_samples=150, **kw)
    np.testing.assert_array_equal(short.per_sample, long.per_sample[:100])
    calls = []

    class Spy(PathSampler):
        def run_chunk(self, idx):
            calls.append(idx.copy())
            return super().run_chunk(idx)

    from ganeval.distances import load_distance
    from ganeval.metrics._ppl_paths import Renderer

    render = Renderer(G, "w", torch.device("cpu"), 0)
    spy = Spy(
        G,
        render,
        load_distance(squared_l2, device="cpu"),
        space="w",
        sampling="end",
        interpolation="lerp",
        eps=1e-4,
        crop=False,
        factor=1,
        method="fd",
        chunk_size=16,
        seed=0,
    )
    out = spy(np.arange(5, 40))
    assert [c[0] for c in calls] == [0, 16, 32] and all(len(c) == 16 for c in calls)
    np.testing.assert_array_equal(out["path_length"], long.per_sample[5:40])


def test_target_ci_stops_at_a_batch_independent_count():
    G = LinearGenerator()
    kw = {"space": "w", "num_samples": 20_000, "distance": squared_l2, "target_ci": 0.02, "min_samples": 500, **FAST}
    a = ppl(G, batch_size=300, **kw)
    b = ppl(G, batch_size=1000, **kw)
    assert a.num_samples == b.num_samples < 20_000
    assert a.extra["target_ci_met"] and a.value == b.value
    assert (a.ci_high - a.ci_low) / 2 < 0.02 * a.value
    np.testing.assert_array_equal(
        a.per_sample, ppl(G, space="w", num_samples=a.num_samples, distance=squared_l2, **FAST).per_sample
    )


def test_result_object_fields(tiny):
    G, dist = tiny
    r = ppl(G, space="w", num_samples=100, distance=dist, **FAST)
    assert r.per_sample.shape == (100,) and r.kept_mask.dtype == bool and r.kept_mask.sum() == r.extra["num_kept"]
    assert r.value == pytest.approx(r.per_sample[r.kept_mask].mean())
    frame = r.per_sample_frame()
    assert list(frame.columns) == ["sample", "t", "path_length", "kept"] and len(frame) == 100
    assert r.to_frame().loc[0, "config.distance"] == dist.name
    line = r.to_json_line()
    assert '"distance": "lpips-alex-random-backbone-seed0"' in line and '"downsample": "tf"' in line
    assert r.provenance["weights"]["distance.lpips_lin"] and not r.higher_is_better


def test_presets_fix_parameters_and_name_references():
    assert {"ppl_zfull", "ppl_wfull", "ppl_zend", "ppl_wend", "ppl2_wend"} <= set(PPL_PRESETS)
    assert PPL_PRESETS["ppl_wend"].crop and not PPL_PRESETS["ppl2_wend"].crop
    assert PPL_PRESETS["ppl_wend"].num_samples == 50_000 and PPL_PRESETS["ppl_wend_v1"].num_samples == 100_000
    G = LinearGenerator(resolution=8)
    r = ppl(
        G, preset="ppl_zend", num_samples=50_000, distance=squared_l2, downsample="ada-pytorch", batch_size=4096, **FAST
    )
    assert (r.metric, r.config["space"], r.config["sampling"], r.config["crop"]) == ("ppl_zend", "z", "end", True)
    assert r.config["downsample"] == "ada-pytorch" and "stylegan2" in r.extra["reference"]
    assert not r.extra["comparable_with_published"]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"epsilon": 0}, "Argument `epsilon` must be a positive float, but got 0."),
        ({"epsilon": -1e-4}, "Argument `epsilon` must be a positive float, but got -0.0001."),
        ({"num_samples": 99}, "Argument `num_samples` must be an integer >= 100, but got 99."),
        ({"space": "x"}, "Argument `space` must be one of 'z', 'w', but got 'x'."),
        ({"downsample": "torch"}, "Argument `downsample` must be one of 'tf', 'ada-pytorch', but got 'torch'."),
        (
            {"preset": "ppl_wend", "space": "z"},
            "Argument `space` is 'z', but preset 'ppl_wend' fixes space='w'; drop one of them.",
        ),
        # a given value equal to the no-preset default still contradicts the preset
        (
            {"preset": "ppl_zfull", "sampling": "end"},
            "Argument `sampling` is 'end', but preset 'ppl_zfull' fixes sampling='full'; drop one of them.",
        ),
        (
            {"preset": "ppl_wend", "crop": False, "num_samples": 50_000},
            "Argument `crop` is False, but preset 'ppl_wend' fixes crop=True; drop one of them.",
        ),
        ({"distance": "lpips-vgg"}, "Argument `distance` must be one of 'lpips-vgg16'"),
    ],
)
def test_bad_arguments(kwargs, message):
    args = {"num_samples": 100, "distance": squared_l2, **FAST, **kwargs}
    with pytest.raises(GanevalValueError) as err:
        ppl(LinearGenerator(), **args)
    assert str(err.value).startswith(message)


def test_w_space_without_mapping_network():
    with pytest.raises(
        UnsupportedGeneratorError,
        match=r"Argument `space` is 'w', but the generator "
        r"NoMappingGenerator has no mapping network",
    ):
        ppl(NoMappingGenerator(), space="w", num_samples=100, distance=squared_l2, **FAST)
    r = ppl(NoMappingGenerator(), space="z", num_samples=100, distance=squared_l2, **FAST)
    assert r.config["noise"] == "forward"


def test_zonly_adapter_in_w_is_refused():
    from ganeval.models.adapter import ZOnlyGenerator

    G = ZOnlyGenerator(
        torch.nn.Sequential(torch.nn.Linear(8, 48), torch.nn.Tanh(), torch.nn.Unflatten(1, (3, 4, 4))), 8, 4
    )
    with pytest.raises(UnsupportedGeneratorError, match="has no mapping network"):
        ppl(G, space="w", num_samples=100, distance=squared_l2, **FAST)
    assert ppl(G, space="z", num_samples=100, distance=squared_l2, **FAST).value > 0


def test_nan_generator_names_count_and_indices():
    with pytest.raises(NonFiniteOutputError) as err:
        ppl(NaNGenerator(), space="w", num_samples=100, distance=squared_l2, batch_size=48, **FAST)
    msg = str(err.value)
    assert msg.startswith("The generator returned NaN or Inf for ") and "sample indices 0..47 (seed 0" in msg
    # the count and the indices are the true ones: pairs whose z0[0] > 1 or z1[0] > 1 (t = 0: image 2 mixes both)
    from ganeval import _seeding

    idx = np.arange(48)
    z0 = _seeding.normal(0, "ppl.z0", idx, [8])[:, 0].numpy()
    expected = idx[z0 > 1.0]
    assert f"for {len(expected)} of the 48 pairs" in msg and str(expected[:5].tolist()) in msg


def test_nan_generator_skip_drops_exactly_the_bad_pairs():
    # NaNGenerator is LinearGenerator with NaN images where z0[0] > 1; skipping must leave the other
    # samples' values untouched, and the statistics must be those of exactly the remaining samples
    from ganeval import _seeding

    kw = {"space": "w", "num_samples": 300, "distance": squared_l2, "batch_size": 64, **FAST}
    r = ppl(NaNGenerator(), on_nan="skip", **kw)
    plain = ppl(LinearGenerator(), **kw)
    idx = np.arange(300)
    bad = idx[_seeding.normal(0, "ppl.z0", idx, [8])[:, 0].numpy() > 1.0]
    good = np.setdiff1d(idx, bad)
    assert len(bad) > 5
    assert r.extra["num_nonfinite_skipped"] == len(bad) and r.extra["first_nonfinite_indices"] == bad[:5].tolist()
    assert r.num_samples == len(good) and r.extra["num_evaluated"] == 300 and r.config["on_nan"] == "skip"
    assert np.isnan(r.per_sample[bad]).all() and not r.kept_mask[bad].any()
    np.testing.assert_array_equal(r.per_sample[good], plain.per_sample[good])
    assert r.value == filtered_mean(plain.per_sample[good])
    assert (r.ci_low, r.ci_high) == bootstrap_ci(plain.per_sample[good], seed=0)
    # the default, stop, raises on the same run and names the count in the first round and the first indices
    with pytest.raises(NonFiniteOutputError) as err:
        ppl(NaNGenerator(), **kw)
    first_round = bad[bad < 64]
    assert f"for {len(first_round)} of the 64 pairs with sample indices 0..63" in str(err.value)
    assert str(first_round[:5].tolist()) in str(err.value)


def test_skip_with_too_few_finite_pairs_raises():
    class MostlyNaN(NaNGenerator):  # NaN unless z0[0] < -1 (about 16 % of the pairs finite)
        def synthesis(self, ws, noise_mode="const", c=None):
            x = LinearGenerator.synthesis(self, ws)
            return torch.where((ws[:, -1, 0] < -1.0)[:, None, None, None], x, torch.full_like(x, float("nan")))

    from ganeval import _seeding

    idx = np.arange(200)
    bad = idx[_seeding.normal(0, "ppl.z0", idx, [8])[:, 0].numpy() >= -1.0]
    with pytest.raises(NonFiniteOutputError) as err:
        ppl(MostlyNaN(), space="w", num_samples=200, distance=squared_l2, on_nan="skip", **FAST)
    assert str(err.value) == (
        f"Only {200 - len(bad)} of the 200 pairs had finite images ({len(bad)} skipped; seed 0; "
        f"first bad sample indices: {bad[:5].tolist()}); at least 100 are needed for the "
        "statistics."
    )


def test_0_255_images_are_detected():
    with pytest.raises(
        GanevalValueError,
        match=r"Generator images must be in \[-1, 1\], but the first batch spans "
        r"\[.*\], which looks like \[0, 255\]",
    ):
        ppl(ScaledGenerator(), space="w", num_samples=100, distance=squared_l2, **FAST)


@pytest.mark.parametrize("net", ["alex", "vgg", "squeeze"])
def test_lpips_pairs_in_one_pass_equal_two_passes(net):
    # PPL runs the LPIPS backbone once on the stacked [2N] pairs; the values must be the lpips package's
    # forward on the two halves, bit for bit (per-sample CPU convolutions do not depend on the batch)
    dist = lpips_with_random_backbone(net, 0)
    gen = torch.Generator().manual_seed(1)
    for channels in (3, 1):
        a = torch.rand(6, channels, 32, 32, generator=gen) * 2 - 1
        b = a + 1e-4 * torch.randn(a.shape, generator=gen)
        with torch.inference_mode():
            np.testing.assert_array_equal(dist.pairs(torch.cat([a, b])).numpy(), dist(a, b).numpy())
    with pytest.raises(
        GanevalValueError, match=r"must be a stack of pairs \[2N, C, H, W\], but got shape \[5, 3, 8, 8\]"
    ):
        dist.pairs(torch.zeros(5, 3, 8, 8))


def test_offline_missing_backbone_names_the_file(tmp_home):
    from ganeval.distances import load_distance
    from ganeval.errors import WeightsNotFoundError

    with pytest.raises(WeightsNotFoundError) as err:
        load_distance("lpips-vgg16", device="cpu")
    assert "vgg16-397923af.pth" in str(err.value) and str(tmp_home) in str(err.value)
