"""Equivariance metrics EQ-T (integer), EQ-T_frac and EQ-R of Karras et al. 2021 ("Alias-Free
Generative Adversarial Networks", arXiv 2106.12423, section 3 and appendix E).

Definition: for w from the mapping network and a random image transform ``t``, the generator is
run twice, once plainly and once with ``t`` applied to its input (``G.synthesis.input.transform``
= the inverse of ``t``). Equivariance compares the second image with ``t`` applied to the first,
over the pixels where both are defined, as a peak signal-to-noise ratio with the image range
[-1, 1] as the peak-to-peak value::

    EQ = 10 log10(2**2 / MSE),  MSE = sum over samples of squared errors / number of valid values

(higher is better). Transforms, per sample:

- ``eqt_int``: translation by t ~ U[-0.125, 0.125]**2 of the image width, rounded to whole pixels; the
  reference is the plain image shifted by whole pixels (no resampling).
- ``eqt_frac``: the same without rounding; the reference is shifted with separable Lanczos
  (a = 3) interpolation; pixels whose six-tap footprint leaves the image are excluded.
- ``eqr``: rotation by an angle ~ U[-pi, pi] about the image centre. Rotating a sampled image needs
  band-limiting to the frequencies both the input and the rotated grid represent, so the
  reference is the plain image resampled through that band-limit (the square passband of the
  pixel grid intersected with its rotated copy: the convolution of the two oriented 2-D sincs,
  windowed by the convolution of the two oriented Lanczos windows, evaluated 4x oversampled and
  read bilinearly), and the transformed image is filtered with the same passband without being
  moved (a "pseudo-rotation"), so that both contain the same frequencies. Borders where a filter
  footprint leaves the image are excluded.

ganeval draws one transform per sample from (seed, sample index) (the reference code draws one per
batch of 4), so results do not depend on batch size; the pooled MSE, the bootstrap CI over samples
and the per-sample PSNRs are reported. Presets ``eqt50k_int``, ``eqt50k_frac`` and ``eqr50k``
(50,000 samples) follow the paper's metric names.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .. import _seeding
from .._names import generator_name
from .._validate import check_choice, check_positive_int, is_int
from ..devices import resolve_device
from ..errors import GanevalTypeError, GanevalValueError, NonFiniteOutputError, UnsupportedGeneratorError
from ..results import MetricResult, collect_provenance

__all__ = [
    "equivariance",
    "eqt_int",
    "eqt_frac",
    "eqr",
    "EquivarianceResult",
    "EquivariancePreset",
    "EQ_PRESETS",
    "KINDS",
    "psnr",
    "ratio_bootstrap_ci",
    "shift_image",
    "integer_translation",
    "fractional_translation",
    "rotation_bandlimit_filter",
    "rotate_reference",
    "pseudo_rotate",
    "has_input_transform",
    "example_images",
]

KINDS: tuple[str, ...] = ("eqt_int", "eqt_frac", "eqr")
PEAK = 2.0  # peak-to-peak range of images in [-1, 1]
LANCZOS_A = 3
ROT_UP = 4  # oversampling of the band-limited reference before bilinear reading
ROT_SUPPORT = 2 * LANCZOS_A  # filter radius in pixels (amax)
ROT_GRID = 64  # half-extent in pixels of the grid the two sinc / window convolutions are computed on
_BOOTSTRAP = 1000
MIN_SAMPLES = 2
DEFAULT_NUM_SAMPLES = 50_000  # the paper's count (every preset)


@dataclass(frozen=True)
class EquivariancePreset:
    """A named equivariance protocol: the transform kind, its range and the sample count."""

    name: str
    kind: str
    num_samples: int
    translate_max: float
    rotate_max: float
    reference: str


_REF = (
    "NVlabs/stylegan3 metrics `{name}` (50,000 samples, translations up to 0.125 image widths, rotations "
    "up to pi); arXiv 2106.12423 section 3, appendix E. ganeval draws one transform per sample instead of "
    "one per batch of 4."
)
EQ_PRESETS: dict[str, EquivariancePreset] = {
    p.name: p
    for p in (
        EquivariancePreset("eqt50k_int", "eqt_int", 50_000, 0.125, 1.0, _REF.format(name="eqt50k_int")),
        EquivariancePreset("eqt50k_frac", "eqt_frac", 50_000, 0.125, 1.0, _REF.format(name="eqt50k_frac")),
        EquivariancePreset("eqr50k", "eqr", 50_000, 0.125, 1.0, _REF.format(name="eqr50k")),
    )
}


@dataclass(frozen=True)
class EquivarianceResult(MetricResult):
    """An equivariance result in dB (higher is better).

    Attributes (beyond :class:`~ganeval.results.MetricResult`):
        per_sample: float64 ``[n]``, each sample's PSNR (dB).
        sse: float64 ``[n]``, each sample's sum of squared differences over its valid values.
        count: float64 ``[n]``, each sample's number of valid values (pixels x channels).
        transform: float64 ``[n, 2]`` translations (image widths) or ``[n]`` angles (radians).
    """

    sse: np.ndarray | None = field(default=None, repr=False, compare=False)
    count: np.ndarray | None = field(default=None, repr=False, compare=False)
    transform: np.ndarray | None = field(default=None, repr=False, compare=False)

    def per_sample_frame(self) -> Any:
        """pandas DataFrame, one row per sample: ``sample``, transform column(s), ``sse``, ``count``, ``psnr``."""
        import pandas as pd

        n = 0 if self.per_sample is None else len(self.per_sample)
        cols: dict[str, Any] = {"sample": np.arange(n)}
        if self.transform is not None and self.transform.ndim == 2:
            cols.update(tx=self.transform[:, 0], ty=self.transform[:, 1])
        elif self.transform is not None:
            cols["angle"] = self.transform
        cols.update(sse=self.sse, count=self.count, psnr=self.per_sample)
        return pd.DataFrame(cols)

    def summary(self) -> str:
        """One line: value, 95 % CI, n, kind, generator."""
        return (
            f"{self.metric} = {self.value:.4g} dB  (95% CI {self.ci_low:.4g} .. {self.ci_high:.4g}, "
            f"n={self.num_samples}, kind={self.config.get('kind')}; "
            f"generator={self.provenance.get('generator_source')})"
        )


# --------------------------------------------------------------------------- statistics


def psnr(sse: float | np.ndarray, count: float | np.ndarray) -> float | np.ndarray:
    """``10 log10(PEAK**2 / (sse / count))`` in dB (inf for a zero error)."""
    with np.errstate(divide="ignore"):
        return 20 * np.log10(PEAK) - 10 * np.log10(np.asarray(sse, np.float64) / np.asarray(count, np.float64))


def ratio_bootstrap_ci(
    sse: np.ndarray, count: np.ndarray, *, seed: int, num_resamples: int = _BOOTSTRAP, level: float = 0.95
) -> tuple[float, float]:
    """Percentile-bootstrap CI of the pooled PSNR ``psnr(sum sse, sum count)``, resampling samples.

    Deterministic in ``seed``; resamples are drawn in chunks of about 8 MiB of indices.
    """
    sse, count = np.asarray(sse, np.float64), np.asarray(count, np.float64)
    n = len(sse)
    rng = np.random.default_rng([int(seed), _seeding.stream_id("eq.bootstrap"), n])
    values = np.empty(num_resamples)
    chunk = max(1, (1 << 20) // n)
    for start in range(0, num_resamples, chunk):
        b = min(chunk, num_resamples - start)
        idx = rng.integers(0, n, size=(b, n))
        values[start : start + b] = psnr(sse[idx].sum(axis=1), count[idx].sum(axis=1))
    alpha = (1 - level) / 2
    return float(np.quantile(values, alpha)), float(np.quantile(values, 1 - alpha))


# --------------------------------------------------------------------------- image transforms


def shift_image(x: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """``z[..., v, u] = x[..., v - dy, u - dx]`` with zeros where the source is outside (content moves
    right by dx, down by dy pixels). x ``[..., H, W]``."""
    h, w = x.shape[-2:]
    z = torch.zeros_like(x)
    if abs(dx) < w and abs(dy) < h:
        z[..., max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = x[
            ..., max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
        ]
    return z


def _range_mask(h: int, w: int, x_lo: int, x_hi: int, y_lo: int, y_hi: int, like: torch.Tensor) -> torch.Tensor:
    """Float mask ``[H, W]``: 1 where ``x_lo <= u <= x_hi`` and ``y_lo <= v <= y_hi`` (inclusive)."""
    u = torch.arange(w, device=like.device)
    v = torch.arange(h, device=like.device)
    mx = (u >= x_lo) & (u <= x_hi)
    my = (v >= y_lo) & (v <= y_hi)
    return (my[:, None] & mx[None, :]).to(like.dtype)


def integer_translation(x: torch.Tensor, dx: int, dy: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Shift ``x`` ``[C, H, W]`` by whole pixels; returns the shifted image and its validity mask ``[H, W]``."""
    h, w = x.shape[-2:]
    mask = _range_mask(h, w, max(dx, 0), w - 1 + min(dx, 0), max(dy, 0), h - 1 + min(dy, 0), x)
    return shift_image(x, dx, dy), mask


def _lanczos(t: np.ndarray, a: int) -> np.ndarray:
    """Lanczos kernel ``sinc(t) sinc(t / a)`` on ``|t| < a``, else 0 (normalised sinc)."""
    return np.where(np.abs(t) < a, np.sinc(t) * np.sinc(t / a), 0.0)


def fractional_translation(
    x: torch.Tensor, tx: float, ty: float, a: int = LANCZOS_A
) -> tuple[torch.Tensor, torch.Tensor]:
    """Shift ``x`` ``[C, H, W]`` by ``(tx, ty)`` pixels with separable Lanczos-``a`` interpolation.

    ``z(u) = sum_m L(m - f) x(u - i - m)`` with ``t = i + f`` (``i = floor(t)``), taps
    ``m = -(a-1) .. a`` normalised to sum 1. Valid where every tap reads inside the image.
    """
    h, w = x.shape[-2:]
    out = x
    bounds = []
    for axis, t, size in ((-1, tx, w), (-2, ty, h)):
        i = math.floor(t)
        taps = np.arange(-(a - 1), a + 1)
        weights = _lanczos(taps - (t - i), a)
        weights = weights / weights.sum()
        acc = torch.zeros_like(out)
        for m, wt in zip(taps, weights):
            if wt != 0:
                d = int(i + m)
                acc = acc + float(wt) * (shift_image(out, d, 0) if axis == -1 else shift_image(out, 0, d))
        out = acc
        bounds.append((i + a, size - 1 + i - (a - 1)))
    (x_lo, x_hi), (y_lo, y_hi) = bounds
    return out, _range_mask(h, w, x_lo, x_hi, y_lo, y_hi, x)


def _rotation(angle: float) -> np.ndarray:
    """2x2 image rotation ``[[cos, sin], [-sin, cos]]`` (x right, y down)."""
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, s], [-s, c]])


def rotation_bandlimit_filter(
    mat: np.ndarray,
    *,
    up: int = ROT_UP,
    a: int = LANCZOS_A,
    support: int = ROT_SUPPORT,
    grid: int = ROT_GRID,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Band-limit filter for resampling between a pixel grid and its image under ``mat`` (2x2).

    Returns a float32 ``[K, K]`` kernel on ``device``, ``K = 2 * support * up - 1``, sampled every
    ``1 / up`` pixels and centred: the convolution of the input grid's 2-D sinc with the
    ``mat``-oriented one (passband: the unit square of frequencies intersected with its image), times
    the convolution of the two correspondingly oriented Lanczos-``a`` windows. Both convolutions are
    evaluated by FFT (float64) on a ``(2 grid up - 1)**2`` grid. Each of the ``up**2`` polyphase
    components is normalised to sum 1, so upsampling by zero insertion and this kernel keeps a
    constant image constant.
    """
    n = 2 * grid * up - 1
    k = torch.fft.ifftshift(torch.arange(n, dtype=torch.float64, device=device) - (n - 1) // 2) / up  # FFT order
    py, px = torch.meshgrid(k, k, indexing="ij")
    qx = float(mat[0, 0]) * px + float(mat[0, 1]) * py
    qy = float(mat[1, 0]) * px + float(mat[1, 1]) * py

    def cconv(f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:  # circular convolution of real grids
        return torch.fft.irfft2(torch.fft.rfft2(f) * torch.fft.rfft2(g), s=f.shape)

    def window(t: torch.Tensor) -> torch.Tensor:  # the Lanczos window sinc(t / a) on |t| < a
        return torch.where(t.abs() < a, torch.sinc(t / a), torch.zeros_like(t))

    ideal = cconv(torch.sinc(px) * torch.sinc(py), torch.sinc(qx) * torch.sinc(qy))
    win = cconv(window(px) * window(py), window(qx) * window(qy))
    f = torch.fft.fftshift(ideal * win)  # centre at (n - 1) // 2
    r, c = support * up - 1, (n - 1) // 2
    f = f[c - r : c + r + 1, c - r : c + r + 1]
    # offsets d = -r..r: every residue class (d_y mod up, d_x mod up) sums to 1
    res = torch.arange(-r, r + 1, device=device) % up
    sums = torch.zeros(up, up, dtype=f.dtype, device=device).index_put_(
        (res[:, None].expand_as(f).reshape(-1), res[None, :].expand_as(f).reshape(-1)), f.reshape(-1), accumulate=True
    )
    return (f / sums[res[:, None], res[None, :]]).to(torch.float32)


def _depthwise(x: torch.Tensor, f: torch.Tensor, pad: int) -> torch.Tensor:
    """True 2-D convolution of every channel of ``x`` ``[C, H, W]`` with ``f`` ``[k, k]``, zero padding ``pad``."""
    c = x.shape[0]
    k = f.flip([0, 1]).to(x)[None, None].expand(c, 1, -1, -1)
    return F.conv2d(x[None], k, padding=pad, groups=c)[0]


def rotate_reference(
    x: torch.Tensor, angle: float, *, up: int = ROT_UP, a: int = LANCZOS_A, support: int = ROT_SUPPORT
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate ``x`` ``[C, H, W]`` by ``angle`` (radians; content at v moves to ``R v`` about the centre).

    The image is upsampled ``up`` times through :func:`rotation_bandlimit_filter` and read
    bilinearly at ``R^-1 (p - centre) + centre``. Valid where that source position is at least
    ``support`` pixels inside the image (the filter footprint stays inside).
    """
    c, h, w = x.shape
    mat = _rotation(angle)
    f = rotation_bandlimit_filter(mat, up=up, a=a, support=support, device=x.device)
    r = f.shape[0] // 2
    fine = torch.zeros(c, (h - 1) * up + 1, (w - 1) * up + 1, dtype=x.dtype, device=x.device)
    fine[:, ::up, ::up] = x  # input pixel j at fine index up * j
    y = _depthwise(fine, f, pad=r)  # same size: fine index e <-> position e / up pixels
    inv = np.linalg.inv(mat)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    v, u = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    sx = inv[0, 0] * (u - cx) + inv[0, 1] * (v - cy) + cx
    sy = inv[1, 0] * (u - cx) + inv[1, 1] * (v - cy) + cy
    ey, ex = sy * up, sx * up  # fractional fine indices
    gx = 2 * ex / (y.shape[2] - 1) - 1  # align_corners=True: index 0 -> -1, last -> +1
    gy = 2 * ey / (y.shape[1] - 1) - 1
    g = torch.stack([gx, gy], dim=-1).to(x)[None]
    z = F.grid_sample(y[None], g, mode="bilinear", padding_mode="zeros", align_corners=True)[0]
    inside = (sx >= support) & (sx <= w - 1 - support) & (sy >= support) & (sy <= h - 1 - support)
    return z, inside.to(x.dtype).to(x.device)


def pseudo_rotate(
    x: torch.Tensor, angle: float, *, a: int = LANCZOS_A, support: int = ROT_SUPPORT
) -> tuple[torch.Tensor, torch.Tensor]:
    """Filter ``x`` ``[C, H, W]`` (already rotated by ``angle``) with the band-limit of the rotation,
    as seen from its own grid (``mat^-1``), without moving it; valid ``support - 1`` px from the border."""
    _, h, w = x.shape
    f = rotation_bandlimit_filter(np.linalg.inv(_rotation(angle)), up=1, a=a, support=support, device=x.device)
    r = f.shape[0] // 2
    y = _depthwise(x, f, pad=r)
    return y, _range_mask(h, w, r, w - 1 - r, r, h - 1 - r, x)


# --------------------------------------------------------------------------- generator access


def has_input_transform(G: Any) -> bool:
    """True when ``G.synthesis.input.transform`` is a ``[3, 3]`` tensor (StyleGAN3-style generators)."""
    t = getattr(getattr(getattr(G, "synthesis", None), "input", None), "transform", None)
    return isinstance(t, torch.Tensor) and tuple(t.shape) == (3, 3)


def _inverse_translation(t: torch.Tensor) -> torch.Tensor:
    """``[N, 2]`` translations (image widths) -> ``[N, 3, 3]`` inverse transforms."""
    m = torch.eye(3, dtype=torch.float64).repeat(len(t), 1, 1)
    m[:, :2, 2] = -t
    return m


def _inverse_rotation(angles: torch.Tensor) -> torch.Tensor:
    """``[N]`` angles -> ``[N, 3, 3]`` inverse rotations ``[[cos, -sin], [sin, cos]]``."""
    m = torch.eye(3, dtype=torch.float64).repeat(len(angles), 1, 1)
    c, s = angles.cos(), angles.sin()
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = c, -s, s, c
    return m


class _Synth:
    """Runs synthesis under per-sample input transforms (one call for ganeval's StyleGAN3, else the
    ``input.transform`` buffer is set sample by sample and restored afterwards)."""

    def __init__(self, G: Any) -> None:
        from ..models.stylegan3 import SynthesisNetwork

        self.G = G
        self.native = isinstance(getattr(G, "synthesis", None), SynthesisNetwork)

    def __call__(self, ws: torch.Tensor, transforms: torch.Tensor) -> torch.Tensor:
        transforms = transforms.to(ws.device, torch.float32)
        if self.native:
            return self.G.synthesis(ws, noise_mode="const", input_transform=transforms)
        buf = self.G.synthesis.input.transform
        saved = buf.detach().clone()
        try:
            out = []
            for i in range(len(ws)):
                buf.copy_(transforms[i])
                out.append(self.G.synthesis(ws[i : i + 1], noise_mode="const"))
            return torch.cat(out)
        finally:
            buf.copy_(saved)


# --------------------------------------------------------------------------- the metric


def _reference(
    kind: str, orig: torch.Tensor, moved: torch.Tensor, t: np.ndarray
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(reference, compared, mask)`` of one sample ``[C, H, W]``: the transformed plain image, the
    generator's transformed image (pseudo-rotated for EQ-R) and the valid-pixel mask ``[H, W]``.
    ``t``: the translation in pixels or the angle."""
    if kind == "eqt_int":
        ref, mask = integer_translation(orig, round(t[0]), round(t[1]))
        return ref, moved, mask
    if kind == "eqt_frac":
        ref, mask = fractional_translation(orig, float(t[0]), float(t[1]))
        return ref, moved, mask
    ref, mask = rotate_reference(orig, float(t))
    other, mask2 = pseudo_rotate(moved, float(t))
    return ref, other, mask * mask2


class _Draws:
    """Per-sample z, labels and transforms from (seed, index), and the two synthesis passes."""

    def __init__(
        self, G: Any, kind: str, seed: int, translate_max: float, rotate_max: float, device: torch.device
    ) -> None:
        self.G, self.kind, self.seed, self.dev = G, kind, seed, device
        self.translate_max, self.rotate_max = translate_max, rotate_max
        self.res = int(G.img_resolution)
        self.synth = _Synth(G)

    def transforms(self, indices: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:
        """Inverse transforms ``[B, 3, 3]`` and the parameters: translations ``[B, 2]`` in image widths
        (whole pixels for ``eqt_int``) or angles ``[B]`` in radians."""
        if self.kind == "eqr":
            u = _seeding.uniform(self.seed, "eq.angle", indices)
            angle = (u * 2 - 1) * (self.rotate_max * math.pi)
            return _inverse_rotation(angle), angle.numpy()
        u = _seeding.uniform(self.seed, "eq.t", indices, [2])
        t = (u * 2 - 1) * self.translate_max
        if self.kind == "eqt_int":
            t = torch.round(t * self.res) / self.res
        return _inverse_translation(t), t.numpy()

    def images(self, indices: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
        """Plain and transformed images ``[B, C, H, W]`` (float32) and the transform parameters."""
        G, b = self.G, len(indices)
        z = _seeding.normal(self.seed, "eq.z", indices, [G.z_dim]).to(self.dev)
        c = None
        if G.c_dim > 0:
            c = F.one_hot(_seeding.randint(self.seed, "eq.c", indices, G.c_dim), G.c_dim).to(self.dev, torch.float32)
        mats, params = self.transforms(indices)
        with torch.inference_mode():
            ws = G.mapping(z, c, truncation_psi=1.0)
            eye = torch.eye(3, dtype=torch.float64).repeat(b, 1, 1)
            images = self.synth(torch.cat([ws, ws]), torch.cat([eye, mats])).to(torch.float32)
        return images[:b], images[b:], params

    def pixels(self, params: np.ndarray, i: int) -> np.ndarray:
        """Sample ``i``'s transform as :func:`_reference` wants it (translations in pixels)."""
        return params[i] if self.kind == "eqr" else params[i] * self.res


def example_images(
    G: Any,
    *,
    kind: str,
    indices: list[int],
    seed: int = 0,
    translate_max: float = 0.125,
    rotate_max: float = 1.0,
    device: str | torch.device = "auto",
) -> dict[str, torch.Tensor]:
    """The images behind samples ``indices`` of :func:`equivariance` (same draws), for figures.

    Returns CPU tensors ``plain``, ``transformed`` (the generator's), ``reference`` (the plain image
    transformed), ``compared`` (``transformed``, pseudo-rotated for EQ-R), each ``[B, C, H, W]``,
    ``mask`` ``[B, H, W]`` and ``psnr`` ``[B]``.
    """
    kind = check_choice("kind", kind, KINDS)
    if not has_input_transform(G):
        raise UnsupportedGeneratorError(
            f"Argument `G` must have an input transform (G.synthesis.input.transform), but {type(G).__name__} has none."
        )
    dev = resolve_device(device)
    draws = _Draws(G, kind, int(seed), translate_max, rotate_max, dev)
    orig, moved, params = draws.images(np.asarray(indices, dtype=np.int64))
    out: dict[str, list[torch.Tensor]] = {k: [] for k in ("reference", "compared", "mask", "psnr")}
    for i in range(len(indices)):
        ref, other, mask = _reference(kind, orig[i], moved[i], draws.pixels(params, i))
        sse = float(((ref - other).double().square() * mask).sum())
        out["reference"].append(ref.cpu())
        out["compared"].append(other.cpu())
        out["mask"].append(mask.cpu())
        out["psnr"].append(torch.tensor(float(psnr(sse, float(mask.sum()) * orig.shape[1]))))
    return {"plain": orig.cpu(), "transformed": moved.cpu(), **{k: torch.stack(v) for k, v in out.items()}}


def equivariance(
    G: Any,
    *,
    kind: str | None = None,
    num_samples: int | None = None,
    translate_max: float | None = None,
    rotate_max: float | None = None,
    seed: int = 0,
    batch_size: int = 8,
    device: str | torch.device = "auto",
    preset: str | None = None,
    progress: bool | str | None = None,
    run_dir: Any = None,
) -> EquivarianceResult:
    """EQ-T, EQ-T_frac or EQ-R of a generator with an input transform (StyleGAN3), in dB.

    Args:
        G: a generator with ``mapping``, ``synthesis`` and ``synthesis.input.transform`` (``[3, 3]``,
            the inverse of the image transform), e.g. :class:`ganeval.models.stylegan3.StyleGAN3`, or a
            registry name or checkpoint path of one (:func:`ganeval.loaders.resolve_generator`).
            Generators without one (StyleGAN2, v1) are refused. ``G`` is moved to ``device``.
        kind: ``"eqt_int"``, ``"eqt_frac"`` or ``"eqr"`` (fixed by ``preset``).
        num_samples: samples (>= 2; default 50,000).
        translate_max: largest translation per axis as a fraction of the image width, in (0, 0.5]
            (default 0.125).
        rotate_max: largest rotation as a fraction of pi, in (0, 1] (default 1).
        seed: z, labels and transforms derive from (seed, sample index).
        batch_size: samples per forward pass; does not change the result.
        device: ``"auto"`` | ``"cpu"`` | ``"cuda[:N]"``.
        preset: ``"eqt50k_int"``, ``"eqt50k_frac"`` or ``"eqr50k"``; given arguments must agree with it.
        progress, run_dir: see :func:`ganeval.runtime.map_samples`.

    Returns:
        :class:`EquivarianceResult`: the pooled PSNR, std of per-sample PSNRs, 95 % bootstrap CI
        (1000 resamples of samples), per-sample PSNR / sse / count / transform, config, provenance.
    """
    from ..loaders import resolve_generator

    t_start = time.perf_counter()
    defaults = {"kind": None, "num_samples": DEFAULT_NUM_SAMPLES, "translate_max": 0.125, "rotate_max": 1.0}
    given = {"kind": kind, "num_samples": num_samples, "translate_max": translate_max, "rotate_max": rotate_max}
    args = _resolve_preset(preset, given, defaults)
    kind = check_choice("kind", args["kind"], KINDS)
    num_samples = check_positive_int("num_samples", args["num_samples"], minimum=MIN_SAMPLES)
    translate_max = _check_fraction("translate_max", args["translate_max"], 0.5)
    rotate_max = _check_fraction("rotate_max", args["rotate_max"], 1.0)
    batch_size = check_positive_int("batch_size", batch_size)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise GanevalTypeError(f"Argument `seed` must be an integer >= 0, but got {seed!r}.")
    seed = int(seed)
    dev = resolve_device(device)
    G = resolve_generator(G, dev)
    if not has_input_transform(G):
        raise UnsupportedGeneratorError(
            f"Argument `G` must have an input transform (G.synthesis.input.transform, 3x3) for equivariance "
            f"metrics, but {type(G).__name__} has none; EQ-T / EQ-R apply to StyleGAN3 (alias-free) generators only."
        )
    for attr in ("z_dim", "c_dim", "img_resolution"):
        if not is_int(getattr(G, attr, None)):  # NumPy integers are integers too
            raise GanevalTypeError(
                f"Argument `G` must have an integer attribute `{attr}`, but {type(G).__name__} has none."
            )

    if isinstance(G, torch.nn.Module):
        G.to(dev)
    draws = _Draws(G, kind, seed, translate_max, rotate_max, dev)

    def fn(indices: np.ndarray) -> dict[str, np.ndarray]:
        orig, moved, params = draws.images(indices)
        sse, count = np.empty(len(indices)), np.empty(len(indices))
        for i in range(len(indices)):
            ref, other, mask = _reference(kind, orig[i], moved[i], draws.pixels(params, i))
            sse[i] = float(((ref - other).double().square() * mask).sum())
            count[i] = float(mask.sum()) * orig.shape[1]
        return {"sse": sse, "count": count, "transform": params.astype(np.float64)}

    config: dict[str, Any] = {
        "kind": kind,
        "num_samples": num_samples,
        "translate_max": translate_max,
        "rotate_max": rotate_max,
        "seed": seed,
        "preset": preset,
        "lanczos_a": LANCZOS_A,
        "rotation_oversampling": ROT_UP,
        "rotation_support_px": ROT_SUPPORT,
        "truncation_psi": 1.0,
        "peak_to_peak": PEAK,
    }
    from ..runtime import map_samples

    run_config = {
        "metric": "equivariance",
        "chunk_format": 1,
        **config,
        "device_type": dev.type,
        "generator": getattr(G, "provenance", {}).get("sha256"),
    }
    out = map_samples(
        fn, num_samples, batch_size=batch_size, desc=kind, progress=progress, run_dir=run_dir, config=run_config
    )
    sse, count, params = out["sse"], out["count"], out["transform"]
    if not (np.isfinite(sse).all() and np.isfinite(count).all()):
        bad = np.flatnonzero(~np.isfinite(sse))
        raise NonFiniteOutputError(
            f"The generator produced NaN or Inf images for {len(bad)} of {len(sse)} samples "
            f"(seed {seed}; first sample indices: {bad[:5].tolist()})."
        )
    if (count <= 0).any():
        bad = np.flatnonzero(count <= 0)
        hint = "a larger generator" if kind == "eqr" else "a larger generator or a smaller `translate_max`"
        raise GanevalValueError(
            f"Argument `G` makes {G.img_resolution} px images, too small for {kind}: no pixel is inside the "
            f"reference's valid region for {len(bad)} of {len(sse)} samples (first sample indices: "
            f"{bad[:5].tolist()}); use {hint}."
        )
    per = np.asarray(psnr(sse, count), dtype=np.float64)
    value = float(psnr(sse.sum(), count.sum()))
    ci_low, ci_high = ratio_bootstrap_ci(sse, count, seed=seed)
    gprov = dict(getattr(G, "provenance", {}) or {})
    provenance = collect_provenance(
        device=dev,
        seed=seed,
        weights={"generator": gprov["sha256"]} if gprov.get("sha256") else {},
        wall_time=time.perf_counter() - t_start,
        generator_source=gprov.get("source", type(G).__name__),
        generator=gprov,
        batch_size=batch_size,
        resumed=getattr(out, "resumed", 0),
        oom_retries=getattr(out, "oom_retries", 0),
    )
    finite = per[np.isfinite(per)]
    extra = {
        "mse": float(sse.sum() / count.sum()),
        "reference": EQ_PRESETS[preset].reference if preset else None,
        "transform_per": "sample",
    }
    return EquivarianceResult(
        metric=preset or kind,
        value=value,
        std=float(finite.std(ddof=1)) if len(finite) > 1 else None,
        ci_low=ci_low,
        ci_high=ci_high,
        num_samples=len(sse),
        higher_is_better=True,
        per_sample=per,
        config={**config, "generator": generator_name(G)},
        provenance=provenance,
        extra=extra,
        sse=sse,
        count=count,
        transform=params,
    )


def eqt_int(G: Any, **kwargs: Any) -> EquivarianceResult:
    """EQ-T with whole-pixel translations; see :func:`equivariance`."""
    return equivariance(G, kind="eqt_int", **kwargs)


def eqt_frac(G: Any, **kwargs: Any) -> EquivarianceResult:
    """EQ-T_frac (sub-pixel translations, Lanczos reference); see :func:`equivariance`."""
    return equivariance(G, kind="eqt_frac", **kwargs)


def eqr(G: Any, **kwargs: Any) -> EquivarianceResult:
    """EQ-R (rotations, band-limited reference and pseudo-rotation); see :func:`equivariance`."""
    return equivariance(G, kind="eqr", **kwargs)


def _check_fraction(name: str, value: Any, upper: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= upper:
        raise GanevalValueError(f"Argument `{name}` must be a number in (0, {upper:g}], but got {value!r}.")
    return float(value)


def _resolve_preset(preset: str | None, given: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Arguments given explicitly win over defaults; a preset fixes its values (a conflicting one raises)."""
    if preset is None:
        return {k: (given[k] if given[k] is not None else defaults[k]) for k in defaults}
    p = EQ_PRESETS.get(preset)
    if p is None:
        raise GanevalValueError(f"Argument `preset` must be one of {', '.join(EQ_PRESETS)}, but got {preset!r}.")
    fixed = {"kind": p.kind, "num_samples": p.num_samples, "translate_max": p.translate_max, "rotate_max": p.rotate_max}
    for k, v in given.items():
        if v is not None and v != fixed[k]:
            raise GanevalValueError(f"Argument `{k}` must be {fixed[k]!r} for preset {preset!r}, but got {v!r}.")
    return fixed
