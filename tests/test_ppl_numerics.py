"""PPL numerics: the exact-derivative method, the float32 guarantee, and refusals of impossible values."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from helpers.ppl_generators import LinearGenerator, small_stylegan, squared_l2

import ganeval
from ganeval.devices import fp32_state
from ganeval.distances import Distance, load_distance, lpips_with_random_backbone
from ganeval.errors import GanevalTypeError, GanevalValueError, NonFiniteOutputError
from ganeval.metrics.ppl import ppl

FAST = {"device": "cpu", "progress": False}


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    yield


# --------------------------------------------------------------------------- method="jvp"


def test_jvp_equals_the_closed_form_in_w():
    # G(w) = s Q w (orthonormal Q), squared L2: the exact path length is s^2 |w1 - w0|^2 at every t
    from ganeval import _seeding

    G = LinearGenerator(z_dim=8, scale=0.5)
    r = ppl(G, space="w", sampling="full", num_samples=200, distance=squared_l2, method="jvp", **FAST)
    idx = np.arange(200)
    w0 = _seeding.normal(0, "ppl.z0", idx, [8]).double()
    w1 = _seeding.normal(0, "ppl.z1", idx, [8]).double()
    exact = (0.25 * (w1 - w0).square().sum(dim=1)).numpy()
    np.testing.assert_allclose(r.per_sample, exact, rtol=2e-6)
    fd = ppl(G, space="w", sampling="full", num_samples=200, distance=squared_l2, **FAST)
    assert np.abs(fd.per_sample / exact - 1).max() > 1e-5  # the finite difference is only close
    assert r.config["method"] == "jvp" and r.config["epsilon"] is None


def test_jvp_rounding_noise_is_orders_of_magnitude_below_the_finite_difference():
    # the same samples through differently shaped forwards (chunks of 1 vs 16 pairs): the finite
    # difference divides the images' rounding by eps^2, the derivative does not. (A rare sample whose
    # path sits on a ReLU kink can still flip an activation's slope: compared at the median.)
    G, dist = small_stylegan(0, resolution=32), lpips_with_random_backbone("alex", 0)
    kw = {"space": "w", "sampling": "full", "num_samples": 100, "distance": dist, **FAST}
    spread = {}
    for method in ("fd", "jvp"):
        a, b = (ppl(G, method=method, chunk_size=c, **kw).per_sample for c in (1, 16))
        spread[method] = np.median(np.abs(a / b - 1))
    assert spread["jvp"] < 1e-5
    assert spread["jvp"] <= max(spread["fd"] / 100, 1e-7)


@pytest.mark.parametrize("space,sampling", [("z", "full"), ("w", "end")])
def test_jvp_agrees_with_the_finite_difference_within_its_ci_on_the_zoo(space, sampling):
    G = ganeval.load_generator("zoo:shapes-stylegan")
    kw = {"space": space, "sampling": sampling, "num_samples": 300, "distance": "zoo:shapes-perceptual", **FAST}
    fd, exact = ppl(G, **kw), ppl(G, method="jvp", **kw)
    assert fd.ci_low <= exact.value <= fd.ci_high
    assert np.median(np.abs(fd.per_sample / exact.per_sample - 1)) < 0.02


@pytest.mark.parametrize("which", ["lpips", "zoo"])
def test_feature_jvp_equals_the_generic_second_derivative(which):
    # the distances' one-pass feature form and the generic nested forward-mode second derivative
    # are two computations of the same limit
    gen = torch.Generator().manual_seed(0)
    if which == "lpips":
        dist = lpips_with_random_backbone("alex", 0)
        x = torch.rand(4, 3, 32, 32, generator=gen) * 2 - 1
    else:
        dist = load_distance("zoo:shapes-perceptual", device="cpu")
        x = torch.rand(4, 3, 32, 32, generator=gen) * 2 - 1
    v = torch.randn(x.shape, generator=gen)
    with torch.no_grad():
        fast = dist.path_quadratic(x, v)
        generic = Distance.path_quadratic(dist, x, v)
        # and a float64 finite difference, where the cancellation is harmless at this step
        dist64, x64, v64 = copy.deepcopy(dist).double(), x.double(), v.double()
        fd = dist64(x64, x64 + 1e-5 * v64) / 1e-10
    np.testing.assert_allclose(fast.numpy(), generic.numpy(), rtol=1e-4)
    np.testing.assert_allclose(fast.numpy(), fd.numpy(), rtol=1e-3)


def test_jvp_refuses_what_has_no_limit_or_no_derivative():
    G = LinearGenerator()

    def l1(a, b):  # grows like eps, not eps^2
        return (a - b).abs().flatten(1).mean(dim=1)

    with pytest.raises(GanevalValueError, match="is not locally quadratic along the paths"):
        ppl(G, num_samples=100, distance=l1, method="jvp", **FAST)

    class Rounding(LinearGenerator):  # leaves torch: forward-mode AD cannot pass
        def synthesis(self, ws, noise_mode="const", c=None):
            return torch.from_numpy(super().synthesis(ws).detach().numpy().copy())

    with pytest.raises(GanevalValueError, match="forward-mode AD fails"):
        ppl(Rounding(), num_samples=100, distance=squared_l2, method="jvp", **FAST)
    with pytest.raises(GanevalValueError, match="preset 'ppl_wend' fixes method='fd'"):
        ppl(G, preset="ppl_wend", distance=squared_l2, method="jvp", **FAST)
    with pytest.raises(GanevalValueError, match="Argument `method` must be one of 'fd', 'jvp'"):
        ppl(G, num_samples=100, distance=squared_l2, method="exact", **FAST)


# --------------------------------------------------------------------------- float32 on GPUs


class _Recording(LinearGenerator):
    """Records the TF32 settings each synthesis call runs under; can fail on demand."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.seen: list[dict] = []
        self.fail = fail

    def synthesis(self, ws, noise_mode="const", c=None):
        self.seen.append(fp32_state())
        if self.fail:
            raise RuntimeError("synthesis failed")
        return super().synthesis(ws)


def test_tf32_is_off_during_the_forwards_and_restored_after_also_on_error():
    before = fp32_state()
    assert before["cudnn.conv.fp32_precision"] == "tf32"  # PyTorch's default: TF32 convolutions
    G = _Recording()
    r = ppl(G, num_samples=100, distance=squared_l2, **FAST)
    assert G.seen and all(
        s["cudnn.conv.fp32_precision"] == "ieee"
        and s["cuda.matmul.fp32_precision"] == "ieee"
        and s["float32_matmul_precision"] == "highest"
        for s in G.seen
    )
    assert fp32_state() == before
    assert r.provenance["precision"].startswith("fp32 (TF32 off")
    with pytest.raises(RuntimeError, match="synthesis failed"):
        ppl(_Recording(fail=True), num_samples=100, distance=squared_l2, **FAST)
    assert fp32_state() == before


# --------------------------------------------------------------------------- impossible values


def test_huge_images_negative_distances_and_bad_steps_are_refused():
    class Huge(LinearGenerator):
        def synthesis(self, ws, noise_mode="const", c=None):
            return super().synthesis(ws) * 1e30

    with pytest.raises(GanevalValueError, match=r"Generator images must be in \[-1, 1\], but a batch spans"):
        ppl(Huge(), num_samples=100, distance=squared_l2, **FAST)
    with pytest.raises(NonFiniteOutputError, match="returned NaN, Inf or negative values for 100 pairs"):
        ppl(LinearGenerator(), num_samples=100, distance=lambda a, b: -squared_l2(a, b), **FAST)
    with pytest.raises(GanevalValueError, match=r"Argument `epsilon` must be in \[1e-05, 1\].*but got 1e\+300"):
        ppl(LinearGenerator(), num_samples=100, distance=squared_l2, epsilon=1e300, **FAST)
    with pytest.raises(GanevalValueError, match="Argument `seed` must be a non-negative integer, but got -1"):
        ppl(LinearGenerator(), num_samples=100, distance=squared_l2, seed=-1, **FAST)
    with pytest.raises(GanevalTypeError, match=r"Argument `seed` must be a non-negative integer, but got 1\.5"):
        ppl(LinearGenerator(), num_samples=100, distance=squared_l2, seed=1.5, **FAST)


def test_infinite_images_are_not_described_as_0_255():
    class Inf(LinearGenerator):
        def synthesis(self, ws, noise_mode="const", c=None):
            return torch.full_like(super().synthesis(ws), float("inf"))

    with pytest.raises(NonFiniteOutputError, match="returned NaN or Inf for 16 of the 16 pairs"):
        ppl(Inf(), num_samples=100, distance=squared_l2, batch_size=16, **FAST)


def test_numpy_integers_are_accepted():
    G = LinearGenerator()
    G.z_dim = np.int64(8)
    r = ppl(
        G,
        num_samples=np.int64(100),
        distance=squared_l2,
        seed=np.int32(2),
        batch_size=np.int16(32),
        chunk_size=np.int64(8),
        **FAST,
    )
    assert r.num_samples == 100 and r.config["seed"] == 2 and r.config["chunk_size"] == 8


def test_wrong_batch_from_the_generator_is_one_clear_error():
    class Double(LinearGenerator):
        def synthesis(self, ws, noise_mode="const", c=None):
            x = super().synthesis(ws)
            return torch.cat([x, x])

    with pytest.raises(GanevalValueError, match=r"must return one image per latent \(\[32, C, H, W\]\)"):
        ppl(Double(), num_samples=100, distance=squared_l2, **FAST)


def test_forwards_are_one_chunk_whatever_the_batch_and_a_chunk_that_does_not_fit_stops_with_advice():
    # memory is bounded by the chunk, not the batch; when one chunk does not fit (the loop cannot halve
    # below it without changing the values), the run stops naming the chunk size to use instead
    class OOMAbove(LinearGenerator):
        def __init__(self, limit):
            super().__init__()
            self.limit, self.calls = limit, []

        def synthesis(self, ws, noise_mode="const", c=None):
            self.calls.append(ws.shape[0])
            if ws.shape[0] > self.limit:
                raise torch.cuda.OutOfMemoryError("simulated")
            return super().synthesis(ws)

    kw = {"num_samples": 100, "distance": squared_l2, "batch_size": 64, **FAST}
    G = OOMAbove(limit=32)  # chunks of 16 pairs = 32 images fit
    r = ppl(G, **kw)
    np.testing.assert_array_equal(r.per_sample, ppl(LinearGenerator(), **kw).per_sample)
    assert set(G.calls) == {32}  # every forward is one chunk, whatever the batch
    with pytest.raises(
        GanevalValueError,
        match=r"one chunk of pairs does not fit in GPU memory; rerun with "
        r"chunk_size=8",
    ):
        ppl(OOMAbove(limit=16), **kw)
