"""PPL parity: a plain transcription of NVIDIA's procedure, and torchmetrics' perceptual_path_length."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers.ppl_generators import LinearGenerator, small_stylegan, squared_l2

from ganeval import _seeding
from ganeval.distances import lpips_with_random_backbone
from ganeval.metrics.ppl import ppl

FAST = {"device": "cpu", "progress": False}
# per-sample relative spread of finite-difference path lengths under rounding changes (batch shape,
# threads, CPU ISA), measured in BENCHMARKS.md "PPL's float32 noise floor" (worst case 0.6 %)
FD_NOISE_FLOOR = 1e-2


def _tanh_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (torch.tanh(3 * a) - torch.tanh(3 * b)).square().mean(dim=(1, 2, 3))


def reference_ppl(G, dist, *, space, sampling, crop, eps, n, seed, downsample):
    """NVIDIA's PPL written out pair by pair (docs/protocols.md 1.2-1.6), on ganeval's draws.

    Identical samples: z0, z1, t and the pair's noise come from the same (seed, index) streams.
    """
    out = []
    for i in range(n):
        z0 = _seeding.normal(seed, "ppl.z0", [i], [G.z_dim])
        z1 = _seeding.normal(seed, "ppl.z1", [i], [G.z_dim])
        t = _seeding.uniform(seed, "ppl.t", [i]).float() if sampling == "full" else torch.zeros(1)
        if space == "z":

            def normalize(v):
                return v / torch.sqrt(torch.sum(v * v, dim=-1, keepdim=True))

            def sl(a, b, tt):
                a, b = normalize(a), normalize(b)
                d = torch.sum(a * b, dim=-1, keepdim=True)
                p = tt * torch.acos(d)
                c = normalize(b - d * a)
                return normalize(a * torch.cos(p) + c * torch.sin(p))

            ws = G.mapping(torch.cat([sl(z0, z1, t), sl(z0, z1, t + eps)]), None)
        else:
            w = G.mapping(torch.cat([z0, z1]), None)
            w0, w1 = w[0:1], w[1:2]
            ws = torch.cat([w0 + (w1 - w0) * t, w0 + (w1 - w0) * (t + eps)])
        res = getattr(G.synthesis, "noise_resolutions", None)
        if res is not None:  # one noise realisation for both images of the pair
            gen = _seeding.torch_generator(seed, "ppl.noise", i)
            flat = torch.randn(sum(r * r for r in res), generator=gen)
            maps, k = [], 0
            for r in res:
                maps.append(flat[k : k + r * r].reshape(1, 1, r, r).expand(2, 1, r, r))
                k += r * r
            img = G.synthesis(ws, noise_mode="const", noise=maps)
        else:
            img = G.synthesis(ws, noise_mode="const")
        if crop:
            c = img.shape[2] // 8
            img = img[:, :, c * 3 : c * 7, c * 2 : c * 6]
        factor = (img.shape[2] if downsample == "tf" else G.img_resolution) // 256
        if factor > 1:
            s = img.shape
            img = img.reshape(s[0], s[1], s[2] // factor, factor, s[3] // factor, factor).mean(dim=(3, 5))
        out.append(float(dist(img[0:1], img[1:2])[0]) * (1 / eps**2))
    d = np.array(out)
    lo = np.percentile(d, 1, method="lower")
    hi = np.percentile(d, 99, method="higher")
    return d, float(np.mean(d[(d >= lo) & (d <= hi)]))


CASES = [
    ("stylegan8", "z", "full", True, "tf", squared_l2),
    ("linear512", "w", "full", True, "tf", _tanh_distance),
    ("linear512", "w", "end", True, "ada-pytorch", _tanh_distance),
    ("linear512", "z", "end", False, "ada-pytorch", _tanh_distance),
]


@pytest.mark.parametrize("gen,space,sampling,crop,downsample,dist", CASES)
def test_equals_plain_transcription(gen, space, sampling, crop, downsample, dist):
    with torch.no_grad():
        G = small_stylegan(0, resolution=8) if gen == "stylegan8" else LinearGenerator(resolution=512, squash=True)
        kw = {
            "space": space,
            "sampling": sampling,
            "crop": crop,
            "downsample": downsample,
            "num_samples": 100,
            "epsilon": 1e-4,
            "distance": dist,
            "seed": 3,
            **FAST,
        }
        # chunks of one pair give the networks the same [2, ...] inputs as the pair-by-pair loop, so even
        # the kernels' blocking agrees (d / eps^2 amplifies last-bit differences of the two images)
        r = ppl(G, chunk_size=1, batch_size=50, **kw)
        d, value = reference_ppl(
            G, dist, space=space, sampling=sampling, crop=crop, eps=1e-4, n=100, seed=3, downsample=downsample
        )
        chunked = ppl(G, **kw)  # default chunks of 16 pairs: other kernels, the same values to the noise floor
    np.testing.assert_allclose(r.per_sample, d, rtol=1e-6)
    assert r.value == pytest.approx(value, rel=1e-6)
    np.testing.assert_allclose(chunked.per_sample, d, rtol=FD_NOISE_FLOOR)
    assert chunked.value == pytest.approx(value, rel=FD_NOISE_FLOOR / 10)
    if gen == "linear512" and crop:  # cropped 512 px: TF feeds 256 px, ada-pytorch 128 px
        assert r.config["distance_input_px"] == (256 if downsample == "tf" else 128)


class _ConstNoise(torch.nn.Module):
    """A ganeval generator seen as a foreign one (constant noise) returning u = 2 (x255 / 255) - 1 exactly."""

    def __init__(self, G):
        super().__init__()
        self.G = G
        self.z_dim, self.c_dim, self.img_resolution = G.z_dim, 0, G.img_resolution

    def mapping(self, z, c=None, truncation_psi=1.0):
        return self.G.mapping(z, None)

    def image255(self, ws):
        return (self.G.synthesis(ws, noise_mode="const") + 1) * 127.5

    def synthesis(self, ws, noise_mode="const"):
        # the same float operations torchmetrics applies to the [0, 255] output it receives
        return 2 * (self.image255(ws) / 255) - 1


class _TorchmetricsWrapper(torch.nn.Module):
    """torchmetrics' generator protocol: sample(n) hands out ganeval's z0 then z1; forward(z) -> [0, 255]."""

    def __init__(self, G, latents):
        super().__init__()
        self.G, self.latents = G, list(latents)

    def sample(self, num_samples):
        return self.latents.pop(0)[:num_samples]

    def forward(self, z):
        return self.G.image255(self.G.mapping(z))


def test_equals_torchmetrics_per_sample():
    # The configuration both implement: Z, lerp, t = 0, no crop, no resize, same distance network and weights.
    from torchmetrics.functional.image.perceptual_path_length import perceptual_path_length

    G = _ConstNoise(small_stylegan(0, resolution=32))
    dist = lpips_with_random_backbone("alex", 0)
    n, seed = 100, 5
    r = ppl(
        G,
        space="z",
        sampling="end",
        interpolation="lerp",
        crop=False,
        num_samples=n,
        distance=dist,
        seed=seed,
        batch_size=50,
        **FAST,
    )
    idx = np.arange(n)
    z0, z1 = _seeding.normal(seed, "ppl.z0", idx, [G.z_dim]), _seeding.normal(seed, "ppl.z1", idx, [G.z_dim])
    # no discarding in torchmetrics (it uses "lower" for both bounds); ganeval's filter is checked separately
    _, _, d_tm = perceptual_path_length(
        _TorchmetricsWrapper(G, [z0, z1]),
        num_samples=n,
        batch_size=50,
        interpolation_method="lerp",
        epsilon=1e-4,
        resize=None,
        lower_discard=None,
        upper_discard=None,
        sim_net=dist,
        device="cpu",
    )
    assert r.config["noise"] == "const"
    np.testing.assert_allclose(r.per_sample, d_tm.double().numpy(), rtol=1e-5)
    assert math.isclose(r.value, float(d_tm.double()[torch.from_numpy(r.kept_mask)].mean()), rel_tol=1e-5)
