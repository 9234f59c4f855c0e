"""PPL's per-sample work: interpolation paths, generator access, and the fixed-chunk sampler.

:class:`PathSampler` maps sample indices to path lengths. It always runs the generator and the
distance on fixed, index-aligned chunks of ``chunk_size`` pairs (samples ``[k C, (k + 1) C)``),
whatever batch the caller hands it: a per-sample value then never depends on the user's batch
size, the number of processes, an out-of-memory retry or the resume point, even on hardware
whose kernels round differently for different batch shapes (PPL divides that rounding by
eps squared). A partial chunk at the end of a run is padded with the following indices and the
padding is dropped, so sample ``i``'s value does not depend on the run length either.

Two methods give the path length at ``t``:

- ``"fd"`` (NVIDIA's, the default): ``d(G(t), G(t + eps)) / eps**2`` from two images;
- ``"jvp"``: its limit as ``eps -> 0``, ``1/2 v^T H v`` with ``v = dG(t)/dt`` from one
  forward-mode pass (:func:`torch.func.jvp`) and ``H`` the distance's Hessian in its second
  image at the first (see :meth:`ganeval.distances.Distance.path_quadratic`); no cancellation.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import torch

from .. import _seeding
from ..errors import GanevalValueError, UnsupportedGeneratorError

__all__ = [
    "slerp",
    "lerp",
    "crop_face",
    "box_downsample",
    "downsample_factor",
    "Renderer",
    "PathSampler",
    "METHODS",
    "MAX_ABS_IMAGE",
]

log = logging.getLogger("ganeval")

METHODS: tuple[str, ...] = ("fd", "jvp")
MAX_ABS_IMAGE = 1e3  # beyond this the distance network's features overflow or saturate: refused
_WARN_ABS_IMAGE = 10.0  # well outside [-1, 1]: computed, with a warning


# --------------------------------------------------------------------------- geometry


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """NVIDIA's spherical interpolation: unit-norm endpoints and a unit-norm result.

    ``a``, ``b``: ``[N, D]``; ``t``: ``[N]`` (any real; t = 0 gives ``a / |a|``). The angle
    between ``slerp(a, b, t)`` and ``slerp(a, b, t + e)`` is exactly ``e * angle(a, b)``. The
    input norms are discarded (harmless for generators that normalise z, as StyleGAN's
    mapping does). No epsilon guards, as in the reference.
    """
    a, b = _normalize(a), _normalize(b)
    d = (a * b).sum(dim=-1, keepdim=True)
    p = t.reshape(-1, 1).to(a.dtype) * torch.acos(d)
    c = _normalize(b - d * a)
    return _normalize(a * torch.cos(p) + c * torch.sin(p))


def _normalize(v: torch.Tensor) -> torch.Tensor:
    """``v / sqrt(sum(v * v))`` over the last axis, NVIDIA's form (not ``torch.norm``, whose reduction
    rounds differently: d / eps**2 amplifies last-bit differences of the two path points)."""
    return v / torch.sqrt((v * v).sum(dim=-1, keepdim=True))


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``a + (b - a) * t`` (the TF reference's form) with ``t`` ``[N]`` broadcast over the rest."""
    return a + (b - a) * t.reshape(-1, *([1] * (a.ndim - 1))).to(a.dtype)


def crop_face(images: torch.Tensor) -> torch.Tensor:
    """NVIDIA's face crop of ``[N, C, H, W]``: rows [3H/8, 7H/8), columns [2W/8, 6W/8)."""
    ch, cw = images.shape[2] // 8, images.shape[3] // 8
    return images[:, :, 3 * ch : 7 * ch, 2 * cw : 6 * cw]


def box_downsample(images: torch.Tensor, factor: int) -> torch.Tensor:
    """Mean over non-overlapping ``factor x factor`` blocks of ``[N, C, H, W]`` (H, W divisible)."""
    if factor <= 1:
        return images
    n, c, h, w = images.shape
    return images.reshape(n, c, h // factor, factor, w // factor, factor).mean(dim=(3, 5))


def downsample_factor(full_resolution: int, cropped_height: int, downsample: str) -> int:
    """Integer box factor before the distance: from the cropped height (``downsample="tf"``) or the
    full resolution (``"ada-pytorch"``), ``// 256``; 1 means no downsampling."""
    base = cropped_height if downsample == "tf" else full_resolution
    return max(1, base // 256)


# --------------------------------------------------------------------------- generator access


class Renderer:
    """Calls a generator the way PPL needs: mapping without truncation, one noise per pair.

    ``mode`` is ``"per-pair"`` (ganeval generators: explicit ``noise=`` maps drawn from
    (seed, index)), ``"const"`` (foreign generators with ``mapping``/``synthesis`` but no
    ``noise=`` input: the generator's stored constant noise) or ``"forward"`` (Z space on a
    generator without a mapping network: ``G(z, c)``).
    """

    def __init__(self, G: Any, space: str, device: torch.device, seed: int) -> None:
        from ..models.base import StyleGenerator

        self.G, self.device, self.seed = G, device, seed
        self.has_mapping = self._probe_mapping()
        if space == "w" and not self.has_mapping:
            raise UnsupportedGeneratorError(
                f"Argument `space` is 'w', but the generator {type(G).__name__} has no mapping network "
                "(it only maps z to images); use space='z'."
            )
        if space == "w" and not getattr(G, "has_w_space", True):
            raise UnsupportedGeneratorError(
                f"Argument `space` is 'w', but the generator {type(G).__name__} has no intermediate latent space "
                "(z feeds its synthesis input directly); use space='z'."
            )
        res = getattr(getattr(G, "synthesis", None), "noise_resolutions", None)
        if not self.has_mapping:
            self.mode, self.noise_res = "forward", []
        elif isinstance(G, StyleGenerator) and res is not None:
            self.mode, self.noise_res = "per-pair", [int(r) for r in res]
        else:
            self.mode, self.noise_res = "const", []
        self.noise_sizes = [r * r for r in self.noise_res]
        self.noise_total = sum(self.noise_sizes)

    def _probe_mapping(self) -> bool:
        mapping = getattr(self.G, "mapping", None)
        if not callable(mapping) or not callable(getattr(self.G, "synthesis", None)):
            return False
        z = torch.zeros(1, self.G.z_dim, device=self.device)
        try:
            mapping(z, self.labels_onehot(torch.zeros(1, dtype=torch.int64)))
        except UnsupportedGeneratorError:
            return False
        return True

    def labels_onehot(self, labels: torch.Tensor) -> torch.Tensor | None:
        c_dim = int(getattr(self.G, "c_dim", 0) or 0)
        if c_dim == 0:
            return None
        return torch.nn.functional.one_hot(labels, c_dim).to(self.device, torch.float32)

    def labels(self, indices: np.ndarray) -> torch.Tensor | None:
        """One uniformly random class per pair (one-hot ``[B, c_dim]``), ``None`` if unconditional."""
        c_dim = int(getattr(self.G, "c_dim", 0) or 0)
        if c_dim == 0:
            return None
        return self.labels_onehot(_seeding.randint(self.seed, "ppl.c", indices, c_dim))

    def noise(self, indices: np.ndarray, halves: int = 2) -> list[torch.Tensor] | None:
        """Per-pair noise maps ``[halves * B, 1, r, r]`` per layer (pair halves stacked, so every
        image of a pair gets the same map); each pair's maps come from (seed, index)."""
        if self.mode != "per-pair":
            return None
        b = len(indices)
        flat = torch.empty(halves, b, self.noise_total, device=self.device)
        for row, i in enumerate(indices):  # one draw per pair covers all layers
            gen = _seeding.torch_generator(self.seed, "ppl.noise", int(i), self.device)
            torch.randn(self.noise_total, generator=gen, device=self.device, out=flat[0, row])
        flat[1:] = flat[0]
        # per-layer views [halves * B, 1, r, r] of the one buffer (no per-layer copies)
        return [m.reshape(halves * b, 1, r, r) for m, r in zip(flat.split(self.noise_sizes, dim=2), self.noise_res)]

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        try:
            return self.G.mapping(z, c, truncation_psi=1.0)
        except UnsupportedGeneratorError as exc:
            raise UnsupportedGeneratorError(
                f"Argument `space` is 'w', but the generator {type(self.G).__name__} cannot map z to w ({exc}); "
                "use space='z'."
            ) from None

    def synthesis(self, ws: torch.Tensor, noise: list[torch.Tensor] | None) -> torch.Tensor:
        """Images for ws ``[N, ...]``; ``noise`` from :meth:`noise` with the same ``N`` (or None)."""
        if noise is not None:
            return self.G.synthesis(ws, noise_mode="const", noise=noise)
        return self.G.synthesis(ws, noise_mode="const")

    def from_z(self, z: torch.Tensor, c: torch.Tensor | None, noise: list[torch.Tensor] | None) -> torch.Tensor:
        if self.mode == "forward":
            return self.G(z, c)
        return self.synthesis(self.mapping(z, c), noise)


def as_images(images: Any, expected: int) -> torch.Tensor:
    """The generator's output as float32 ``[expected, C, H, W]``; anything else raises."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[0] != expected:
        got = list(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise GanevalValueError(
            f"The generator must return one image per latent ([{expected}, C, H, W]), but returned {got}."
        )
    if images.dtype == torch.bool or not (images.is_floating_point()):
        raise GanevalValueError(
            f"The generator must return floating-point images in [-1, 1], but returned dtype {images.dtype}."
        )
    return images.to(torch.float32)


def check_range(images: torch.Tensor, first: bool) -> None:
    """Refuse images PPL cannot measure: [0, 255]-looking (first chunk) or beyond ±1000 (any chunk).

    Only finite values count (non-finite pairs are handled by ``on_nan``). Beyond ±1000 the
    distance networks' features overflow or saturate and the path length collapses to 0.
    """
    lo_t, hi_t = torch.aminmax(images)
    lo, hi = float(lo_t), float(hi_t)
    if not (math.isfinite(lo) and math.isfinite(hi)):  # rare: a copy of the finite values only then
        finite = images[torch.isfinite(images)]
        if finite.numel() == 0:
            return
        lo, hi = float(finite.min()), float(finite.max())
    span = f"[{lo:.3g}, {hi:.3g}]"
    if max(-lo, hi) > MAX_ABS_IMAGE:
        raise GanevalValueError(
            f"Generator images must be in [-1, 1], but a batch spans {span}; PPL of such images is not "
            "meaningful (the distance network saturates); fix or rescale the generator's output."
        )
    if first and lo >= 0 and hi > 2:
        raise GanevalValueError(
            f"Generator images must be in [-1, 1], but the first batch spans {span}, which looks "
            "like [0, 255]; wrap the generator so it returns x / 127.5 - 1."
        )
    if first and max(-lo, hi) > _WARN_ABS_IMAGE:
        log.warning("ppl: generator images span %s, far outside [-1, 1]; the distance expects [-1, 1]", span)


def finite_rows(images: torch.Tensor, groups: int, b: int) -> torch.Tensor:
    """float32 ``[b]``: 1 where every image of sample ``i`` (``groups`` stacked halves) is finite."""
    return torch.isfinite(images.reshape(groups, b, -1)).all(dim=2).all(dim=0).to(torch.float32)


# --------------------------------------------------------------------------- the sampler


class PathSampler:
    """``sampler(indices) -> {"path_length", "t", "finite"}`` (float64, float32, bool ``[B]``).

    Every draw (z0, z1, t, labels, noise) derives from (seed, sample index); the networks run
    on index-aligned chunks of ``chunk_size`` pairs (see the module docstring), so the values
    are a function of (seed, index, chunk_size) and the configuration only.
    """

    def __init__(
        self,
        G: Any,
        render: Renderer,
        dist: Any,
        *,
        space: str,
        sampling: str,
        interpolation: str,
        eps: float,
        crop: bool,
        factor: int,
        method: str,
        chunk_size: int,
        seed: int,
    ) -> None:
        self.G, self.render, self.dist = G, render, dist
        self.space, self.sampling, self.eps, self.crop, self.factor = space, sampling, eps, crop, factor
        self.method, self.chunk, self.seed = method, chunk_size, seed
        self.interp = slerp if interpolation == "slerp" else lerp
        self.first = True

    def __call__(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        starts = np.unique(np.asarray(indices, dtype=np.int64) // self.chunk) * self.chunk
        parts = [self.run_chunk(np.arange(s, s + self.chunk, dtype=np.int64)) for s in starts]
        covered = (starts[:, None] + np.arange(self.chunk)).ravel()
        rows = np.searchsorted(covered, indices)
        return {k: np.concatenate([p[k] for p in parts])[rows] for k in parts[0]}

    def run_chunk(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        """One fixed chunk of pairs: the path lengths at t, t itself, and the finite flags."""
        b = len(idx)
        dev = self.render.device
        t_host = (
            _seeding.uniform(self.seed, "ppl.t", idx).to(torch.float32)
            if self.sampling == "full"
            else torch.zeros(b, dtype=torch.float32)
        )
        z0 = _seeding.normal(self.seed, "ppl.z0", idx, [self.G.z_dim])
        z1 = _seeding.normal(self.seed, "ppl.z1", idx, [self.G.z_dim])
        # z0 and z1 stacked [2B, z_dim] on the host, one transfer
        z = torch.cat([z0, z1]).to(dev)
        c = self.render.labels(idx)
        run = self._fd if self.method == "fd" else self._jvp
        d, finite = run(idx, z, t_host.to(dev), c)
        # one device-to-host transfer per chunk: path lengths and the per-pair finite flags
        host = torch.stack([d.reshape(-1).to(torch.float32), finite]).cpu().numpy()
        length = host[0].astype(np.float64)
        if self.method == "fd":  # fp32 network output; the division by eps**2 in fp64 keeps its last bits
            length = length / (self.eps * self.eps)
        return {"path_length": length, "t": t_host.numpy(), "finite": host[1] > 0}

    def _endpoints(self, z: torch.Tensor, c: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The path's ends ``[B, ...]`` in its space: (z0, z1), or (w0, w1) mapped in one call."""
        b = z.shape[0] // 2
        if self.space == "z":
            return z[:b], z[b:]
        w = self.render.mapping(z, None if c is None else torch.cat([c, c]))
        return w[:b], w[b:]

    def _render(
        self, a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, c: torch.Tensor | None, noise: Any
    ) -> torch.Tensor:
        """Images at path positions ``t`` ``[N]`` between ends ``a`` and ``b`` ``[N, ...]``."""
        if self.space == "z":
            return self.render.from_z(self.interp(a, b, t), c, noise)
        return self.render.synthesis(lerp(a, b, t), noise)

    def _to_distance_input(self, images: torch.Tensor) -> torch.Tensor:
        if self.crop:
            images = crop_face(images)
        return box_downsample(images, self.factor)

    def _checked(self, images: Any, expected: int) -> torch.Tensor:
        images = as_images(images, expected)
        check_range(images, self.first)
        self.first = False
        return images

    def _fd(
        self, idx: np.ndarray, z: torch.Tensor, t: torch.Tensor, c: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``d(G(t), G(t + eps))`` ``[B]`` (not yet divided by eps**2) and the finite flags."""
        noise = self.render.noise(idx)
        with torch.inference_mode():
            a, b = self._endpoints(z, c)
            # both images of every pair in one pass: [ends at t ..., ends at t + eps ...]
            images = self._render(
                torch.cat([a, a]),
                torch.cat([b, b]),
                torch.cat([t, t + self.eps]),
                None if c is None else torch.cat([c, c]),
                noise,
            )
            images = self._checked(images, 2 * len(idx))
            finite = finite_rows(images, 2, len(idx))
            d = self.dist.pairs(self._to_distance_input(images)).to(torch.float32)
        return d, finite

    def _jvp(
        self, idx: np.ndarray, z: torch.Tensor, t: torch.Tensor, c: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``1/2 v^T H v`` ``[B]`` with ``v = d image / dt`` (forward mode), and the finite flags."""
        noise = self.render.noise(idx, halves=1)
        with torch.no_grad():  # forward-mode AD needs no graph; inference mode would disable it
            a, b = self._endpoints(z, c)

            def image_at(tt: torch.Tensor) -> torch.Tensor:
                return self._to_distance_input(self._render(a, b, tt, c, noise))

            # torch annotates jvp's result as the 2- or (has_aux) 3-tuple
            x, v = torch.func.jvp(image_at, (t,), (torch.ones_like(t),))  # type: ignore[misc]
            self._checked(x, len(idx))
            finite = finite_rows(torch.stack([x, v]), 2, len(idx))
            q = self.dist.path_quadratic(x, v).to(torch.float32)
        return q, finite
